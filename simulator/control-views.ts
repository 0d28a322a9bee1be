import type { Fault } from './faults';
import type { App, Chat, Directory, Message } from './state';
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
    name: chat.name,
    tenant_key: chat.tenantKey,
    user_ids: [...chat.userIds],
    app_ids: [...chat.appIds],
    message_count: messages.length,
    last_message_at: messages.at(-1)?.createTime ?? null,
  };
}

const parseContent = (content: string): unknown => JSON.parse(content);

export function messageView(deps: { dir: Directory }, message: Message) {
  const { dir } = deps;
  const nameOf = (type: 'user' | 'app', partyId: string) =>
    (type === 'user' ? dir.users.get(partyId)?.name : dir.apps.get(partyId)?.name) ?? partyId;
  return {
    message_id: message.messageId,
    sender: { ...message.sender, name: nameOf(message.sender.type, message.sender.id) },
    msg_type: message.msgType,
    content: parseContent(message.content),
    root_id: message.rootId ?? null,
    parent_id: message.parentId ?? null,
    thread_id: message.threadId ?? null,
    create_time: message.createTime,
    updates: message.updates.map(parseContent),
    mentions: message.mentions.map((m) => ({ key: m.key, type: m.type, id: m.id, name: nameOf(m.type, m.id) })),
  };
}

export function faultView(fault: Fault) {
  const { id: faultId, kind, appId, createdAt, ...rest } = fault;
  return { id: faultId, kind, app_id: appId ?? null, created_at: createdAt, ...rest };
}
