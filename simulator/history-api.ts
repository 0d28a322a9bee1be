import { createHash } from 'node:crypto';
import type { Reply } from './http';
import { larkFail, larkOk } from './lark-errors';
import type { Call } from './rest';
import type { App, Directory, Message, Party, StoredMention } from './state';

// Reading messages back: one message (`GET /open-apis/im/v1/messages/:message_id`) and a chat's or
// a thread's history (`GET /open-apis/im/v1/messages`), in the shape Lark answers both with.

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

type IdType = 'open_id' | 'union_id' | 'user_id';

/** What a recalled message shows instead of its content (a plain string, not JSON). */
export const recalledContent = 'This message was recalled';

function userId(dir: Directory, app: App, id: string, idType: IdType): string {
  const user = dir.users.get(id);
  if (!user) return id;
  if (idType === 'union_id') return user.unionId;
  if (idType === 'user_id') return user.userId;
  return dir.userOpenId(app.appId, user.id);
}

function senderOf(dir: Directory, app: App, party: Party, idType: IdType) {
  if (party.type === 'app') {
    return { id: party.id, id_type: 'app_id', sender_type: 'app', tenant_key: dir.apps.get(party.id)?.tenantKey ?? '' };
  }
  return { id: userId(dir, app, party.id, idType), id_type: idType, sender_type: 'user', tenant_key: dir.users.get(party.id)?.tenantKey ?? '' };
}

function mentionOf(dir: Directory, app: App, mention: StoredMention, idType: IdType) {
  if (mention.type === 'user') {
    const user = dir.users.get(mention.id);
    return { key: mention.key, id: userId(dir, app, mention.id, idType), id_type: idType, name: user?.name ?? '', tenant_key: user?.tenantKey ?? '' };
  }
  const bot = dir.apps.get(mention.id);
  const id = idType === 'open_id' ? dir.botMentionOpenId(app.appId, mention.id) : idType === 'union_id' ? (bot?.botUnionId ?? '') : '';
  return { key: mention.key, id, id_type: idType, name: bot?.name ?? '', tenant_key: bot?.tenantKey ?? '' };
}

const plain = (value: unknown) => (isObject(value) && typeof value.content === 'string' ? value.content : typeof value === 'string' ? value : '');

/**
 * A card as history shows it by default: not the card JSON but its readable parts, as
 * `{"title", "elements": [[...paragraph], ...]}` (text, links as text, images, buttons, rules).
 */
export function cardForHistory(card: Json): Json {
  const paragraphs: Json[][] = [];
  const walk = (elements: unknown) => {
    for (const el of Array.isArray(elements) ? elements : []) {
      if (!isObject(el)) continue;
      switch (el.tag) {
        case 'markdown':
        case 'lark_md':
        case 'plain_text':
          if (typeof el.content === 'string' && el.content !== '') paragraphs.push([{ tag: 'text', text: el.content }]);
          break;
        case 'div': {
          const texts = [plain(el.text), ...(Array.isArray(el.fields) ? el.fields.map((f) => plain(isObject(f) ? f.text : undefined)) : [])].filter(Boolean);
          if (texts.length) paragraphs.push(texts.map((t) => ({ tag: 'text', text: t })));
          break;
        }
        case 'hr':
          paragraphs.push([{ tag: 'hr' }]);
          break;
        case 'img':
          if (typeof el.img_key === 'string') paragraphs.push([{ tag: 'img', image_key: el.img_key }]);
          break;
        case 'button':
          paragraphs.push([{ tag: 'button', text: plain(el.text) }]);
          break;
        case 'action':
          paragraphs.push((Array.isArray(el.actions) ? el.actions : []).filter(isObject).map((b) => ({ tag: 'button', text: plain(b.text) })));
          break;
        case 'note':
          paragraphs.push((Array.isArray(el.elements) ? el.elements : []).map((e) => ({ tag: 'text', text: plain(e) })));
          break;
        case 'column_set':
          for (const column of Array.isArray(el.columns) ? el.columns : []) if (isObject(column)) walk(column.elements);
          break;
        default:
          walk(el.elements);
      }
    }
  };
  walk(card.schema === '2.0' ? (isObject(card.body) ? card.body.elements : undefined) : card.elements);
  const header = isObject(card.header) ? card.header : {};
  return { title: plain(header.title), elements: paragraphs };
}

/** A message's `body.content` as history shows it. */
function historyContent(dir: Directory, message: Message): string {
  if (message.recalledAt !== undefined) return recalledContent;
  if (message.msgType === 'interactive') {
    const entity = message.cardId ? dir.cards.get(message.cardId) : undefined;
    return JSON.stringify(cardForHistory(entity ? entity.card : (JSON.parse(message.content) as Json)));
  }
  if (message.msgType === 'post') {
    // Posts read back in the received form: one locale's body, without the wrapper.
    const value = JSON.parse(message.content) as Json;
    if (Array.isArray(value.content)) return message.content;
    const body = (value.zh_cn ?? value.en_us ?? Object.values(value)[0]) as Json | undefined;
    return JSON.stringify({ title: typeof body?.title === 'string' ? body.title : '', content: Array.isArray(body?.content) ? body.content : [] });
  }
  return message.content;
}

/** What every message item of the open platform says of a message, whoever sent it. */
export function messageItemFields(message: Message) {
  return {
    message_id: message.messageId,
    ...(message.rootId ? { root_id: message.rootId } : {}),
    ...(message.parentId ? { parent_id: message.parentId } : {}),
    ...(message.threadId ? { thread_id: message.threadId } : {}),
    msg_type: message.msgType,
    create_time: String(message.createTime),
    update_time: String(message.updateTime),
    deleted: message.recalledAt !== undefined,
    updated: message.updates.length > 0,
    chat_id: message.chatId,
  };
}

export function historyItem(dir: Directory, app: App, message: Message, idType: IdType = 'open_id') {
  const recalled = message.recalledAt !== undefined;
  const mentions = recalled ? [] : message.mentions.map((m) => mentionOf(dir, app, m, idType));
  return {
    ...messageItemFields(message),
    sender: senderOf(dir, app, message.sender, idType),
    body: { content: historyContent(dir, message) },
    ...(mentions.length ? { mentions } : {}),
    ...(message.upperMessageId ? { upper_message_id: message.upperMessageId } : {}),
  };
}

const idTypes: IdType[] = ['open_id', 'union_id', 'user_id'];

/**
 * `GET /open-apis/im/v1/messages/:message_id[?user_id_type=]`: `data.items` holds the message; for
 * a merge_forward, the messages it holds follow it (each with `upper_message_id`). The bot must be
 * in the message's chat (for a forwarded message: the merge_forward's chat).
 */
export function getMessage(call: Call): Reply {
  const { deps, req, app, params } = call;
  const idType = (req.query.get('user_id_type') ?? 'open_id') as IdType;
  if (!idTypes.includes(idType)) return larkFail('field_validation', 'user_id_type must be open_id, union_id or user_id');
  const { dir } = deps;
  const message = dir.messages.get(params.message_id);
  if (!message) return larkFail('invalid_param', 'message_id not found');
  const container = message.upperMessageId ? (dir.messages.get(message.upperMessageId) ?? message) : message;
  if (!dir.chats.get(container.chatId)?.appIds.has(app.appId)) return larkFail('bot_not_in_chat');
  const children = message.msgType === 'merge_forward' && message.recalledAt === undefined ? (message.forwardedIds ?? []) : [];
  const items = [message, ...children.map((id) => dir.messages.get(id)!)].map((m) => historyItem(dir, app, m, idType));
  return larkOk({ data: { items } });
}

const sortTypes = ['ByCreateTimeAsc', 'ByCreateTimeDesc'] as const;

type PageToken = { after: string; query: string };

function encodeToken(token: PageToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeToken(text: string): PageToken | undefined {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    return isObject(value) && typeof value.after === 'string' && typeof value.query === 'string' ? (value as PageToken) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `GET /open-apis/im/v1/messages?container_id_type=chat|thread&container_id=&start_time=&end_time=
 * &sort_type=&page_size=&page_token=`: a chat's messages (thread replies stay in their thread) or a
 * thread's (its root first). Times are in seconds and bound both ends; a thread takes none. The bot
 * must be in the chat. Recalled messages stay, `deleted: true`, content "This message was recalled".
 */
export function listMessages(call: Call): Reply {
  const { deps, req, app } = call;
  const { dir } = deps;
  const q = req.query;
  const containerType = q.get('container_id_type');
  if (containerType !== 'chat' && containerType !== 'thread') return larkFail('field_validation', 'container_id_type must be chat or thread');
  const containerId = q.get('container_id');
  if (!containerId) return larkFail('field_validation', 'container_id is required');
  const sortType = q.get('sort_type') ?? 'ByCreateTimeAsc';
  if (!(sortTypes as readonly string[]).includes(sortType)) return larkFail('field_validation', 'sort_type must be ByCreateTimeAsc or ByCreateTimeDesc');
  const pageSizeText = q.get('page_size') ?? '20';
  const pageSize = /^\d{1,3}$/.test(pageSizeText) ? Number(pageSizeText) : NaN;
  if (!(pageSize >= 1 && pageSize <= 50)) return larkFail('field_validation', 'page_size must be from 1 to 50');
  const times: Record<'start_time' | 'end_time', number | undefined> = { start_time: undefined, end_time: undefined };
  for (const key of ['start_time', 'end_time'] as const) {
    const value = q.get(key);
    if (value === null || value === '') continue;
    if (!/^\d{1,12}$/.test(value)) return larkFail('field_validation', `${key} must be a Unix time in seconds`);
    times[key] = Number(value) * 1000;
  }
  if (containerType === 'thread' && (times.start_time !== undefined || times.end_time !== undefined)) {
    return larkFail('invalid_param', 'start_time and end_time are not supported for thread containers');
  }

  let chatId: string;
  if (containerType === 'chat') {
    if (!dir.chats.has(containerId)) return larkFail('invalid_param', 'invalid container_id');
    chatId = containerId;
  } else {
    const root = [...dir.messages.values()].find((m) => m.threadId === containerId && m.upperMessageId === undefined);
    if (!root) return larkFail('invalid_param', 'invalid container_id');
    chatId = root.chatId;
  }
  if (!dir.chats.get(chatId)!.appIds.has(app.appId)) return larkFail('bot_not_in_chat');

  let messages = dir
    .messagesOf(chatId)
    .filter((m) => (containerType === 'chat' ? !(m.threadId && m.rootId) : m.threadId === containerId))
    .filter((m) => (times.start_time === undefined || m.createTime >= times.start_time) && (times.end_time === undefined || m.createTime <= times.end_time));
  if (sortType === 'ByCreateTimeDesc') messages = messages.reverse();

  // A page token names the last message served and the query it belongs to.
  const query = createHash('sha256').update(JSON.stringify([containerType, containerId, sortType, times.start_time, times.end_time])).digest('hex').slice(0, 16);
  let start = 0;
  const pageToken = q.get('page_token');
  if (pageToken) {
    const token = decodeToken(pageToken);
    const index = token && token.query === query ? messages.findIndex((m) => m.messageId === token.after) : -1;
    if (index < 0) return larkFail('invalid_param', 'invalid page_token');
    start = index + 1;
  }
  const page = messages.slice(start, start + pageSize);
  const hasMore = start + page.length < messages.length;
  return larkOk({
    data: {
      has_more: hasMore,
      ...(hasMore ? { page_token: encodeToken({ after: page.at(-1)!.messageId, query }) } : {}),
      items: page.map((m) => historyItem(dir, app, m)),
    },
  });
}
