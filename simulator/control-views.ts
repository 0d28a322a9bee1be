import { cardSummary, expireStreaming, isStreaming, type CardRuntime } from './cards';
import type { SimulatorConfig } from './config';
import type { Fault } from './faults';
import { cardImageKeys } from './im-content';
import { resourcesOf } from './media';
import type { App, CardEntity, Chat, Directory, MediaBlob, Message } from './state';
import type { WsGateway } from './ws';

// What the control API shows of the simulator's state (never app secrets or tokens).
export function appView(deps: { dir: Directory; ws: WsGateway }, app: App) {
  return {
    app_id: app.appId,
    name: app.name,
    brand: app.brand,
    tenant_key: app.tenantKey,
    owner_user_id: app.ownerUserId ?? null,
    bot_open_id: deps.dir.botSelfOpenId(app.appId),
    bot_union_id: app.botUnionId,
    connections: deps.ws.connectionsOf(app.appId).length,
  };
}

export function chatView(deps: { dir: Directory }, chat: Chat) {
  const messages = deps.dir.messagesOf(chat.chatId);
  return {
    chat_id: chat.chatId,
    type: chat.type,
    chat_mode: chat.chatMode,
    group_message_type: chat.groupMessageType,
    name: chat.name,
    tenant_key: chat.tenantKey,
    user_ids: [...chat.userIds],
    app_ids: [...chat.appIds],
    message_count: messages.length,
    last_message_at: messages.at(-1)?.createTime ?? null,
  };
}

/** Content as JSON where it is JSON (a merge_forward's is plain text). */
const parseContent = (content: string): unknown => {
  try {
    return JSON.parse(content) as unknown;
  } catch {
    return content;
  }
};

/** An image or file: what it is, never its bytes (`GET /_control/media/:key` has those). */
export function blobView(blob: MediaBlob) {
  return {
    key: blob.key,
    kind: blob.kind,
    size: blob.size,
    file_name: blob.fileName ?? null,
    content_type: blob.contentType,
    file_type: blob.fileType ?? null,
    duration_ms: blob.durationMs ?? null,
    width: blob.width ?? null,
    height: blob.height ?? null,
    owner: blob.owner,
    created_at: blob.createdAt,
  };
}

/** Every image or file key a message names, with the blob's facts (null when unknown). */
function mediaOf(dir: Directory, message: Message, content: unknown) {
  const keys = new Map(resourcesOf(message).map((r) => [r.key, r.type as string]));
  if (message.msgType === 'interactive') for (const key of cardImageKeys(content)) keys.set(key, 'image');
  // A sticker's key is no resource (it cannot be downloaded), but it is in the message.
  const sticker = message.msgType === 'sticker' && content && typeof content === 'object' ? (content as { file_key?: unknown }).file_key : undefined;
  if (typeof sticker === 'string') keys.set(sticker, 'sticker');
  return [...keys].map(([key, type]) => {
    const blob = dir.media.get(key);
    return { key, type, ...(blob ? { size: blob.size, file_name: blob.fileName ?? null, content_type: blob.contentType, owner: blob.owner } : {}) };
  });
}

type ViewDeps = { dir: Directory; config: SimulatorConfig };

/** A card entity's state as a message shows it; streaming mode that timed out reads as closed. */
function entityState(deps: ViewDeps, entity: CardEntity) {
  expireStreaming(entity, deps.config.streamingTimeoutMs);
  return {
    card_id: entity.cardId,
    streaming_mode: isStreaming(entity.card),
    summary: cardSummary(entity.card),
    sequence: entity.sequence,
  };
}

export function messageView(deps: ViewDeps, message: Message): MessageView {
  const { dir } = deps;
  const nameOf = (type: 'user' | 'app', partyId: string) =>
    (type === 'user' ? dir.users.get(partyId)?.name : dir.apps.get(partyId)?.name) ?? partyId;
  const entity = message.cardId ? dir.cards.get(message.cardId) : undefined;
  const card = entity ? entityState(deps, entity) : null;
  const content = entity ? entity.card : parseContent(message.content);
  return {
    message_id: message.messageId,
    sender: { ...message.sender, name: nameOf(message.sender.type, message.sender.id) },
    msg_type: message.msgType,
    // A card entity message shows the entity's current card.
    content,
    // The images and files it names (image_key / file_key), so tests see what a bot sent.
    media: mediaOf(dir, message, content),
    card_entity: card,
    root_id: message.rootId ?? null,
    parent_id: message.parentId ?? null,
    thread_id: message.threadId ?? null,
    create_time: message.createTime,
    updates: message.updates.map(parseContent),
    mentions: message.mentions.map((m) => ({ key: m.key, type: m.type, id: m.id, name: nameOf(m.type, m.id) })),
    recalled_at: message.recalledAt ?? null,
    recall_type: message.recallType ?? null,
    reactions: message.reactions.map((r) => ({
      reaction_id: r.reactionId,
      emoji_type: r.emojiType,
      operator: { type: r.operator.type, id: r.operator.id, name: nameOf(r.operator.type, r.operator.id) },
      action_time: r.actionTime,
    })),
    reactions_added: message.reactionsAdded ?? 0,
    upper_message_id: message.upperMessageId ?? null,
    // A merge_forward: the messages it holds.
    forwarded: (message.forwardedIds ?? []).map((id) => messageView(deps, dir.messages.get(id)!)),
  };
}

type MessageView = Record<string, unknown> & { forwarded: MessageView[] };

/** A card entity, with its operation log when asked for (times in ms, in the order they came). */
export function cardView(deps: ViewDeps & { cards: CardRuntime }, entity: CardEntity, withOps: boolean) {
  const state = entityState(deps, entity);
  return {
    ...state,
    app_id: entity.appId,
    message_id: entity.messageId ?? null,
    card: entity.card,
    created_at: entity.createdAt,
    updated_at: entity.updatedAt,
    streaming_opened_at: entity.streamingOpenedAt ?? null,
    ...(withOps ? { ops: deps.cards.opsOf(entity.cardId) } : {}),
  };
}

export function faultView(fault: Fault) {
  const { id: faultId, kind, appId, createdAt, ...rest } = fault;
  return { id: faultId, kind, app_id: appId ?? null, created_at: createdAt, ...rest };
}
