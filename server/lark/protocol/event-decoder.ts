// Turns an event long-connection payload (v2 envelope) into a typed inbound event. Never throws:
// anything it cannot or will not handle becomes an `ignore` verdict with a reason.

export const MESSAGE_RECEIVE_EVENT = 'im.message.receive_v1';
export const MESSAGE_RECALLED_EVENT = 'im.message.recalled_v1';
export const BOT_ADDED_EVENT = 'im.chat.member.bot.added_v1';
export const BOT_DELETED_EVENT = 'im.chat.member.bot.deleted_v1';
export const P2P_ENTERED_EVENT = 'im.chat.access_event.bot_p2p_chat_entered_v1';

export type LarkChatType = 'p2p' | 'group';

export type InboundMention = {
  key: string;
  openId: string | null;
  unionId: string | null;
  userId: string | null;
  name: string;
};

export type InboundSender = {
  openId: string;
  unionId: string | null;
  userId: string | null;
  type: string;
};

/**
 * A resource a message carries: `resourceType` is how it is downloaded (`image` or `file`; null when
 * Lark does not allow downloading it, as for stickers).
 */
export type InboundAttachmentRef = {
  kind: 'image' | 'file' | 'audio' | 'video' | 'sticker';
  key: string;
  resourceType: 'image' | 'file' | null;
  fileName: string | null;
  durationMs: number | null;
};

export type InboundMessage = {
  eventId: string;
  eventType: string;
  appId: string | null;
  tenantKey: string | null;
  messageId: string;
  chatId: string;
  chatType: LarkChatType;
  rootId: string | null;
  parentId: string | null;
  threadId: string | null;
  sender: InboundSender;
  mentions: InboundMention[];
  messageType: string;
  // Readable text. Mention placeholders (`@_user_N`) are kept; rewriteMentionsForAgent resolves them.
  // Empty for a message that is only an image or a file: those are its attachments.
  text: string;
  /** Images, files, audio and video the message carries, in order. */
  attachments: InboundAttachmentRef[];
  createTime: number | null;
};

export type IgnoreReason =
  | 'malformed_json'
  | 'not_an_object'
  | 'unsupported_schema'
  | 'unsupported_event_type'
  | 'missing_field'
  | 'unsupported_chat_type'
  | 'malformed_content';

/** A message of the chat was recalled; `recallType` is who did it (message_owner, group_owner, group_manager, enterprise_manager). */
export type RecallEvent = {
  kind: 'recall';
  eventId: string;
  appId: string | null;
  messageId: string;
  chatId: string;
  recallTime: number | null;
  recallType: string | null;
};

/** The bot was added to (`added`) or removed from a group. */
export type BotMembershipEvent = {
  kind: 'bot_membership';
  added: boolean;
  eventId: string;
  appId: string | null;
  chatId: string;
  chatName: string | null;
  operatorOpenId: string | null;
};

/** A user opened their direct chat with the bot. */
export type P2pEnteredEvent = { kind: 'p2p_entered'; eventId: string; appId: string | null; chatId: string; operatorOpenId: string };

export type DecodedEvent =
  | { kind: 'message'; message: InboundMessage }
  | RecallEvent
  | BotMembershipEvent
  | P2pEnteredEvent
  | { kind: 'ignore'; reason: IgnoreReason; detail?: string; eventId?: string; eventType?: string };

/** The Lark event type a decoded event came as. */
export function eventTypeOf(event: Exclude<DecodedEvent, { kind: 'ignore' }>): string {
  switch (event.kind) {
    case 'message':
      return event.message.eventType;
    case 'recall':
      return MESSAGE_RECALLED_EVENT;
    case 'bot_membership':
      return event.added ? BOT_ADDED_EVENT : BOT_DELETED_EVENT;
    case 'p2p_entered':
      return P2P_ENTERED_EVENT;
  }
}

type JsonRecord = Record<string, unknown>;

function asRecord(value: unknown): JsonRecord | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonRecord) : null;
}

function asString(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function asTimestamp(value: unknown): number | null {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : null;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

const textDecoder = new TextDecoder('utf-8');

export function decodeInboundEvent(payload: string | Uint8Array | unknown): DecodedEvent {
  let envelopeValue: unknown = payload;
  if (typeof payload === 'string' || payload instanceof Uint8Array) {
    const text = typeof payload === 'string' ? payload : textDecoder.decode(payload);
    const parsed = parseJson(text);
    if (!parsed.ok) return { kind: 'ignore', reason: 'malformed_json' };
    envelopeValue = parsed.value;
  }
  const envelope = asRecord(envelopeValue);
  if (!envelope) return { kind: 'ignore', reason: 'not_an_object' };
  const header = asRecord(envelope.header);
  if (envelope.schema !== '2.0' || !header) return { kind: 'ignore', reason: 'unsupported_schema' };

  const eventId = asString(header.event_id) ?? undefined;
  const eventType = asString(header.event_type) ?? undefined;
  const ignore = (reason: IgnoreReason, detail?: string): DecodedEvent => ({ kind: 'ignore', reason, detail, eventId, eventType });
  const known = eventType === MESSAGE_RECEIVE_EVENT || eventType === MESSAGE_RECALLED_EVENT || eventType === BOT_ADDED_EVENT || eventType === BOT_DELETED_EVENT || eventType === P2P_ENTERED_EVENT;
  // card.action.trigger is answered before events reach this decoder; here it is unsupported like any other type.
  if (!known) return ignore('unsupported_event_type', eventType ?? 'none');
  if (!eventId) return ignore('missing_field', 'header.event_id');
  const appId = asString(header.app_id);

  const event = asRecord(envelope.event);
  if (eventType !== MESSAGE_RECEIVE_EVENT) {
    if (!event) return ignore('missing_field', 'event');
    const chatId = asString(event.chat_id);
    if (!chatId) return ignore('missing_field', 'event.chat_id');
    const operatorOpenId = asString(asRecord(event.operator_id)?.open_id);
    if (eventType === MESSAGE_RECALLED_EVENT) {
      const messageId = asString(event.message_id);
      if (!messageId) return ignore('missing_field', 'event.message_id');
      return { kind: 'recall', eventId, appId, messageId, chatId, recallTime: asTimestamp(event.recall_time), recallType: asString(event.recall_type) };
    }
    if (eventType === P2P_ENTERED_EVENT) {
      if (!operatorOpenId) return ignore('missing_field', 'event.operator_id.open_id');
      return { kind: 'p2p_entered', eventId, appId, chatId, operatorOpenId };
    }
    const chatName = typeof event.name === 'string' && event.name.trim() !== '' ? event.name : null;
    return { kind: 'bot_membership', added: eventType === BOT_ADDED_EVENT, eventId, appId, chatId, chatName, operatorOpenId };
  }
  const message = asRecord(event?.message);
  if (!event || !message) return ignore('missing_field', 'event.message');
  const sender = asRecord(event.sender);
  const senderIds = asRecord(sender?.sender_id);
  const senderOpenId = asString(senderIds?.open_id);
  if (!senderOpenId) return ignore('missing_field', 'event.sender.sender_id.open_id');
  const messageId = asString(message.message_id);
  if (!messageId) return ignore('missing_field', 'event.message.message_id');
  const chatId = asString(message.chat_id);
  if (!chatId) return ignore('missing_field', 'event.message.chat_id');
  const chatType = message.chat_type;
  if (chatType !== 'p2p' && chatType !== 'group') return ignore('unsupported_chat_type', typeof chatType === 'string' ? chatType : 'none');
  const messageType = asString(message.message_type);
  if (!messageType) return ignore('missing_field', 'event.message.message_type');

  const mentions = decodeMentions(message.mentions);
  const decoded = decodeMessageContent(messageType, message.content, new Set(mentions.map((m) => m.key)));
  if (decoded === null) return ignore('malformed_content', messageType);

  return {
    kind: 'message',
    message: {
      eventId,
      eventType,
      appId,
      tenantKey: asString(header.tenant_key),
      messageId,
      chatId,
      chatType,
      rootId: asString(message.root_id),
      parentId: asString(message.parent_id),
      threadId: asString(message.thread_id),
      sender: {
        openId: senderOpenId,
        unionId: asString(senderIds?.union_id),
        userId: asString(senderIds?.user_id),
        type: asString(sender?.sender_type) ?? 'user',
      },
      mentions,
      messageType,
      text: decoded.text,
      attachments: decoded.attachments,
      createTime: asTimestamp(message.create_time) ?? asTimestamp(header.create_time),
    },
  };
}

function decodeMentions(value: unknown): InboundMention[] {
  if (!Array.isArray(value)) return [];
  const mentions: InboundMention[] = [];
  for (const item of value) {
    const mention = asRecord(item);
    const key = asString(mention?.key);
    if (!mention || !key) continue;
    const ids = asRecord(mention.id);
    mentions.push({
      key,
      openId: asString(ids?.open_id),
      unionId: asString(ids?.union_id),
      userId: asString(ids?.user_id),
      name: typeof mention.name === 'string' ? mention.name : '',
    });
  }
  return mentions;
}

/** A message's content as text and attachments. */
export type DecodedContent = { text: string; attachments: InboundAttachmentRef[] };

function ref(kind: InboundAttachmentRef['kind'], key: string | null, resourceType: InboundAttachmentRef['resourceType'], content: JsonRecord | null): InboundAttachmentRef[] {
  if (!key) return [];
  const duration = asTimestamp(content?.duration);
  return [{ kind, key, resourceType, fileName: asString(content?.file_name), durationMs: duration }];
}

/**
 * Reads a message's content JSON (as events and `im/v1/messages` carry it): its text, and the
 * resources it carries. Returns null when the content of a text-bearing type cannot be read.
 * `mentionKeys`: the placeholders the message's mention list knows (kept for the agent to resolve).
 */
export function decodeMessageContent(messageType: string, rawContent: unknown, mentionKeys: ReadonlySet<string>): DecodedContent | null {
  let content: JsonRecord | null = null;
  if (typeof rawContent === 'string') {
    const parsed = parseJson(rawContent);
    content = parsed.ok ? asRecord(parsed.value) : null;
  }
  switch (messageType) {
    case 'text':
      return content && typeof content.text === 'string' ? { text: content.text, attachments: [] } : null;
    case 'post': {
      if (!content) return null;
      const attachments: InboundAttachmentRef[] = [];
      const text = flattenPost(content, mentionKeys, attachments);
      return text === null ? null : { text, attachments };
    }
    case 'image':
      return { text: '', attachments: ref('image', asString(content?.image_key), 'image', content) };
    case 'file':
      return { text: '', attachments: ref('file', asString(content?.file_key), 'file', content) };
    case 'audio': {
      // The recognized words, when Lark sends them, are what the person said.
      const spoken = typeof content?.speech_to_text === 'string' ? content.speech_to_text.trim() : '';
      return { text: spoken, attachments: ref('audio', asString(content?.file_key), 'file', content) };
    }
    case 'media':
      return { text: '', attachments: ref('video', asString(content?.file_key), 'file', content) };
    case 'sticker':
      return { text: '', attachments: ref('sticker', asString(content?.file_key), null, content) };
    case 'merge_forward':
      // Its messages are fetched after the ACK (im/v1/messages/:id lists them).
      return { text: '', attachments: [] };
    default:
      return { text: '[Unsupported message]', attachments: [] };
  }
}

function flattenPost(content: JsonRecord, mentionKeys: ReadonlySet<string>, attachments: InboundAttachmentRef[]): string | null {
  let body = content;
  // Received posts have no locale wrapper; sent ones ({"zh_cn": {...}}) may still show up (e.g. forwarded).
  if (!Array.isArray(body.content)) {
    const localized = Object.values(content).map(asRecord).find((value) => value && Array.isArray(value.content));
    if (!localized) return null;
    body = localized;
  }
  const lines: string[] = [];
  const title = typeof body.title === 'string' ? body.title.trim() : '';
  if (title) lines.push(title);
  for (const paragraph of body.content as unknown[]) {
    if (!Array.isArray(paragraph)) continue;
    const before = attachments.length;
    const line = flattenParagraph(paragraph, mentionKeys, attachments);
    // A paragraph that only held an image or a video leaves no blank line behind.
    if (line === '' && attachments.length > before) continue;
    lines.push(line);
  }
  return lines.join('\n');
}

function flattenParagraph(elements: unknown[], mentionKeys: ReadonlySet<string>, attachments: InboundAttachmentRef[]): string {
  let line = '';
  let afterCodeBlock = false;
  const append = (piece: string) => {
    if (!piece) return;
    line += afterCodeBlock ? `\n${piece}` : piece;
    afterCodeBlock = false;
  };
  for (const item of elements) {
    const element = asRecord(item);
    if (!element) continue;
    const text = typeof element.text === 'string' ? element.text : '';
    switch (element.tag) {
      case 'text':
      case 'md':
        append(text);
        break;
      case 'a': {
        const href = asString(element.href);
        append(href && text && text !== href ? `${text} (${href})` : text || href || '');
        break;
      }
      case 'at': {
        // Keep the placeholder when the mention list knows it, so the bot's own mention is handled
        // exactly as in text messages; otherwise show the name.
        const userId = asString(element.user_id);
        if (userId && mentionKeys.has(userId)) append(userId);
        else if (userId === '@_all' || userId === 'all') append('@all');
        else append(`@${asString(element.user_name) ?? userId ?? 'user'}`);
        break;
      }
      case 'code_block': {
        const language = asString(element.language)?.toLowerCase() ?? '';
        const code = text.endsWith('\n') ? text.slice(0, -1) : text;
        const fence = `\`\`\`${language}\n${code}\n\`\`\``;
        line += line && !line.endsWith('\n') ? `\n${fence}` : fence;
        afterCodeBlock = true;
        break;
      }
      case 'img':
        attachments.push(...ref('image', asString(element.image_key), 'image', null));
        break;
      case 'media':
        attachments.push(...ref('video', asString(element.file_key), 'file', null));
        break;
      case 'emotion': {
        const emoji = asString(element.emoji_type);
        append(emoji ? `:${emoji}:` : '');
        break;
      }
      case 'hr':
        append('---');
        break;
      default:
        append(text);
    }
  }
  return line;
}
