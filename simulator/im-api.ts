import type { Call, OpenApiRequest, RestDeps } from './rest';
import { cardEntityLifetimeMs } from './cards';
import { checkContent, isSharedCard, requestBodyLimits, type SupportedMsgType } from './im-content';
import { parseJsonObject, type Reply } from './http';
import { larkError, larkErrorReply, larkFail, larkOk, type LarkError } from './lark-errors';
import { messageItemFields } from './history-api';
import { ownMedia } from './media';
import { appendMessage, type Placement } from './messaging';
import { recallMessage } from './notify';
import type { App, CardEntity, Chat, Directory, Message } from './state';

// IM: send, reply, card update and recall.

const idempotencyWindowMs = 60 * 60 * 1000;
const maxCardAgeMs = 14 * 24 * 60 * 60 * 1000;
/** A bot may recall its own messages this long after sending them (the tenant default). */
const recallWindowMs = 24 * 60 * 60 * 1000;

/** `uuid` de-duplication of sends and replies, per app, for an hour. */
export class IdempotencyStore {
  private readonly entries = new Map<string, { messageId: string; at: number }>();

  get(appId: string, uuid: string, now = Date.now()): string | undefined {
    const entry = this.entries.get(`${appId}|${uuid}`);
    if (!entry) return undefined;
    if (now - entry.at > idempotencyWindowMs) {
      this.entries.delete(`${appId}|${uuid}`);
      return undefined;
    }
    return entry.messageId;
  }

  set(appId: string, uuid: string, messageId: string): void {
    const now = Date.now();
    const key = `${appId}|${uuid}`;
    // Entries stay in the order they were written (a rewritten key moves to the end), so the
    // expired ones are all at the front: pruning stops at the first live one.
    this.entries.delete(key);
    for (const [old, entry] of this.entries) {
      if (now - entry.at <= idempotencyWindowMs) break;
      this.entries.delete(old);
    }
    this.entries.set(key, { messageId, at: now });
  }

  clear(): void {
    this.entries.clear();
  }

  /** Entries held, expired ones not yet pruned included. */
  get size(): number {
    return this.entries.size;
  }
}

function messageData(dir: Directory, message: Message) {
  const app = message.sender.type === 'app' ? dir.apps.get(message.sender.id) : undefined;
  return {
    ...messageItemFields(message),
    sender: { id: app?.appId ?? message.sender.id, id_type: 'app_id', sender_type: 'app', tenant_key: app?.tenantKey },
    body: { content: message.content },
  };
}

function chatRateLimit(deps: RestDeps, chat: Chat): LarkError | undefined {
  // Shared by every bot: per group chat, and per user for direct messages.
  const key = chat.type === 'group' ? `chat|${chat.chatId}` : `user|${[...chat.userIds][0]}`;
  const decision = deps.limiter.hit(key, deps.config.chatRateLimitPerSecond, 1000);
  return decision.ok ? undefined : larkError('im_rate_limited');
}

const receiveIdTypes = ['chat_id', 'open_id', 'union_id', 'user_id', 'email'] as const;

function resolveReceiver(dir: Directory, app: App, idType: string, id: string): { chat: Chat } | { error: LarkError } {
  const directTo = (userId: string) => {
    const user = dir.users.get(userId)!;
    if (user.tenantKey !== app.tenantKey) return { error: larkError('no_availability') };
    return { chat: dir.p2pChat(app, user) };
  };
  switch (idType) {
    case 'chat_id': {
      const chat = dir.chats.get(id);
      if (!chat) return { error: larkError('invalid_param', 'invalid receive_id') };
      return chat.appIds.has(app.appId) ? { chat } : { error: larkError('bot_not_in_chat') };
    }
    case 'open_id': {
      const subject = dir.resolveOpenId(id);
      if (!subject) return { error: larkError('invalid_param', 'invalid receive_id') };
      if (subject.scopeAppId !== app.appId) return { error: larkError('open_id_cross_app') };
      if (subject.kind !== 'user') return { error: larkError('invalid_param', 'receive_id is not a user') };
      return directTo(subject.userId);
    }
    case 'union_id': {
      const user = dir.userByUnionId(id);
      return user ? directTo(user.id) : { error: larkError('invalid_param', 'invalid receive_id') };
    }
    case 'user_id': {
      const user = dir.userByLarkUserId(app.tenantKey, id);
      return user ? directTo(user.id) : { error: larkError('invalid_param', 'invalid receive_id') };
    }
    default:
      return { error: larkError('invalid_param', 'invalid receive_id') };
  }
}

type Outgoing = { msgType: SupportedMsgType; content: string; uuid?: string; cardId?: string };

/** Field checks shared by send and reply: required strings, uuid, size, content shape, own media. */
function readOutgoing(deps: RestDeps, req: OpenApiRequest, app: App, body: Record<string, unknown>): Outgoing | LarkError {
  const { msg_type: msgType, content, uuid } = body;
  if (typeof msgType !== 'string' || msgType === '') return larkError('field_validation', 'msg_type is required');
  if (typeof content !== 'string' || content === '') return larkError('field_validation', 'content is required');
  if (uuid !== undefined && (typeof uuid !== 'string' || uuid.length > 50)) {
    return larkError('field_validation', 'uuid must be a string of at most 50 characters');
  }
  const checked = checkContent(msgType, content, { tableLimit: deps.config.cardTableLimit, allowEntity: true, media: ownMedia(deps.dir, app.appId) });
  if (!checked.ok) return checked.error;
  const limit = requestBodyLimits[msgType as SupportedMsgType];
  if (req.body.length > limit) return larkError('content_too_long', `request body exceeds ${limit / 1024} KB`);
  return { msgType: msgType as SupportedMsgType, content: checked.stored, uuid: uuid || undefined, cardId: checked.cardId };
}

/** A card entity can be sent once, by the app that created it, while it lives. */
function sendableEntity(deps: RestDeps, app: App, cardId: string): CardEntity | LarkError {
  const entity = deps.dir.cards.get(cardId);
  if (!entity || entity.appId !== app.appId || entity.messageId !== undefined || Date.now() - entity.createdAt > cardEntityLifetimeMs) {
    return larkError('card_failed', 'ErrCode: 11310; ErrMsg: cardid is invalid; ');
  }
  return entity;
}

function deliverBotMessage(
  call: Call,
  chat: Chat,
  out: Outgoing,
  placement: Placement,
): Reply {
  const { deps, app } = call;
  const entity = out.cardId ? sendableEntity(deps, app, out.cardId) : undefined;
  if (entity && 'code' in entity) return larkErrorReply(entity);
  const limited = chatRateLimit(deps, chat);
  if (limited) return larkErrorReply(limited);
  const message = appendMessage(deps.dir, {
    chat,
    sender: { type: 'app', id: app.appId },
    msgType: out.msgType,
    content: out.content,
    ...(entity ? { cardId: entity.cardId } : {}),
    ...placement,
  });
  if (entity) entity.messageId = message.messageId;
  if (out.uuid) deps.idempotency.set(app.appId, out.uuid, message.messageId);
  return larkOk({ data: messageData(deps.dir, message) });
}

function replayed(call: Call, uuid: string | undefined): Reply | undefined {
  const messageId = uuid ? call.deps.idempotency.get(call.app.appId, uuid) : undefined;
  const message = messageId ? call.deps.dir.messages.get(messageId) : undefined;
  return message ? larkOk({ data: messageData(call.deps.dir, message) }) : undefined;
}

export function sendMessage(call: Call): Reply {
  const { deps, req, app } = call;
  const idType = req.query.get('receive_id_type');
  if (!idType || !(receiveIdTypes as readonly string[]).includes(idType)) {
    return larkFail('field_validation', 'receive_id_type must be one of chat_id, open_id, union_id, user_id, email');
  }
  const body = parseJsonObject(req.body);
  if (!body) return larkFail('bad_json');
  if (typeof body.receive_id !== 'string' || body.receive_id === '') {
    return larkFail('field_validation', 'receive_id is required');
  }
  const out = readOutgoing(deps, req, app, body);
  if ('code' in out) return larkErrorReply(out);
  const again = replayed(call, out.uuid);
  if (again) return again;
  const target = resolveReceiver(deps.dir, app, idType, body.receive_id);
  if ('error' in target) return larkErrorReply(target.error);
  return deliverBotMessage(call, target.chat, out, {});
}

export function replyToMessage(call: Call): Reply {
  const { deps, req, app, params } = call;
  const body = parseJsonObject(req.body);
  if (!body) return larkFail('bad_json');
  if (body.reply_in_thread !== undefined && typeof body.reply_in_thread !== 'boolean') {
    return larkFail('field_validation', 'reply_in_thread must be a boolean');
  }
  const out = readOutgoing(deps, req, app, body);
  if ('code' in out) return larkErrorReply(out);
  const again = replayed(call, out.uuid);
  if (again) return again;
  const target = deps.dir.messages.get(params.message_id);
  if (!target) return larkFail('invalid_param', 'message_id not found');
  if (target.upperMessageId !== undefined) return larkFail('invalid_param', 'a message inside a merge_forward cannot be replied to');
  const chat = deps.dir.chats.get(target.chatId)!;
  if (!chat.appIds.has(app.appId)) return larkFail('bot_not_in_chat');
  if (target.recalledAt !== undefined) return larkFail('message_recalled');
  return deliverBotMessage(call, chat, out, { replyTo: target, inThread: body.reply_in_thread === true });
}

export function patchCard(call: Call): Reply {
  const { deps, req, app, params } = call;
  const body = parseJsonObject(req.body);
  if (!body) return larkFail('bad_json');
  if (typeof body.content !== 'string' || body.content === '') {
    return larkFail('field_validation', 'content is required');
  }
  const message = deps.dir.messages.get(params.message_id);
  if (!message) return larkFail('invalid_param', 'message_id not found');
  if (message.msgType !== 'interactive') return larkFail('invalid_param', 'This message is NOT a card');
  if (message.sender.type !== 'app' || message.sender.id !== app.appId) return larkFail('no_permission');
  if (message.recalledAt !== undefined) return larkFail('message_recalled');
  if (Date.now() - message.createTime > maxCardAgeMs) return larkFail('too_old');
  if (req.body.length > requestBodyLimits.interactive) {
    return larkFail('content_too_long', 'request body exceeds 30 KB');
  }
  const checked = checkContent('interactive', body.content, { tableLimit: deps.config.cardTableLimit, media: ownMedia(deps.dir, app.appId) });
  if (!checked.ok) return larkErrorReply(checked.error);
  // Only shared cards update: both the card on record and the new one must declare update_multi.
  if (!isSharedCard(JSON.parse(message.content) as Record<string, unknown>) || !isSharedCard(checked.value)) {
    return larkFail('invalid_param', 'only shared cards can be updated: set config.update_multi to true in both cards');
  }
  if (!deps.limiter.hit(`patch|${message.messageId}`, deps.config.patchRateLimitPerSecond, 1000).ok) {
    return larkFail('im_rate_limited');
  }
  message.content = body.content;
  message.updates.push(body.content);
  message.updateTime = Date.now();
  return larkOk({ data: {} });
}

/** `DELETE /open-apis/im/v1/messages/:message_id`: a bot recalls a message it sent. */
export function deleteMessage(call: Call): Reply {
  const { deps, app, params } = call;
  const message = deps.dir.messages.get(params.message_id);
  if (!message) return larkFail('invalid_param', 'message_id not found');
  const chat = deps.dir.chats.get(message.chatId)!;
  if (!chat.appIds.has(app.appId)) return larkFail('bot_not_in_chat');
  if (message.recalledAt !== undefined) return larkFail('message_recalled');
  // A bot recalls only its own messages (it is never a group's owner or manager here).
  if (message.sender.type !== 'app' || message.sender.id !== app.appId) return larkFail('recall_no_permission');
  if (Date.now() - message.createTime > recallWindowMs) return larkFail('recall_expired');
  recallMessage(deps.dir, deps.delivery, message);
  return larkOk({ data: {} });
}
