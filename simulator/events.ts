import type { App, Chat, Directory, Message, StoredMention } from './state';

function mentionEntry(dir: Directory, receiver: App, mention: StoredMention) {
  if (mention.type === 'user') {
    const user = dir.users.get(mention.id)!;
    return {
      key: mention.key,
      id: { open_id: dir.userOpenId(receiver.appId, user.id), union_id: user.unionId, user_id: user.userId },
      name: user.name,
      tenant_key: user.tenantKey,
    };
  }
  const bot = dir.apps.get(mention.id)!;
  return {
    key: mention.key,
    id: { open_id: dir.botMentionOpenId(receiver.appId, bot.appId), union_id: bot.botUnionId, user_id: '' },
    name: bot.name,
    tenant_key: bot.tenantKey,
  };
}

/** The `im.message.receive_v1` envelope (schema 2.0) for one receiving app, ids scoped to it. */
export function buildMessageReceiveEvent(input: {
  dir: Directory;
  receiver: App;
  chat: Chat;
  message: Message;
  eventId: string;
}) {
  const { dir, receiver, chat, message, eventId } = input;
  const sender = dir.users.get(message.sender.id)!;
  const mentions = message.mentions.map((m) => mentionEntry(dir, receiver, m));
  return {
    schema: '2.0',
    header: {
      event_id: eventId,
      event_type: 'im.message.receive_v1',
      create_time: String(Date.now()),
      token: receiver.verificationToken,
      app_id: receiver.appId,
      tenant_key: receiver.tenantKey,
    },
    event: {
      sender: {
        sender_id: {
          open_id: dir.userOpenId(receiver.appId, sender.id),
          union_id: sender.unionId,
          user_id: sender.userId,
        },
        sender_type: 'user',
        tenant_key: sender.tenantKey,
      },
      message: {
        message_id: message.messageId,
        ...(message.rootId ? { root_id: message.rootId } : {}),
        ...(message.parentId ? { parent_id: message.parentId } : {}),
        ...(message.threadId ? { thread_id: message.threadId } : {}),
        create_time: String(message.createTime),
        update_time: String(message.updateTime),
        chat_id: chat.chatId,
        chat_type: chat.type,
        message_type: message.msgType,
        content: message.content,
        ...(mentions.length ? { mentions } : {}),
      },
    },
  };
}

// --- other events: one envelope shape, ids scoped to the receiving app -----------------------

type Envelope = { schema: '2.0'; header: Record<string, string>; event: Record<string, unknown> };

function envelope(receiver: App, eventId: string, eventType: string, event: Record<string, unknown>): Envelope {
  return {
    schema: '2.0',
    header: {
      event_id: eventId,
      event_type: eventType,
      create_time: String(Date.now()),
      token: receiver.verificationToken,
      app_id: receiver.appId,
      tenant_key: receiver.tenantKey,
    },
    event,
  };
}

/** A user's ids as the receiving app sees them. */
export function userIds(dir: Directory, receiver: App, userId: string) {
  const user = dir.users.get(userId)!;
  return { open_id: dir.userOpenId(receiver.appId, user.id), union_id: user.unionId, user_id: user.userId };
}

export function buildRecalledEvent(input: { receiver: App; eventId: string; message: Message }) {
  const { receiver, eventId, message } = input;
  return envelope(receiver, eventId, 'im.message.recalled_v1', {
    message_id: message.messageId,
    chat_id: message.chatId,
    recall_time: String(message.recalledAt),
    recall_type: message.recallType,
  });
}

export function buildBotMembershipEvent(input: {
  dir: Directory;
  receiver: App;
  eventId: string;
  eventType: 'im.chat.member.bot.added_v1' | 'im.chat.member.bot.deleted_v1';
  chat: Chat;
  operatorUserId: string;
}) {
  const { dir, receiver, eventId, eventType, chat, operatorUserId } = input;
  const operator = dir.users.get(operatorUserId)!;
  return envelope(receiver, eventId, eventType, {
    chat_id: chat.chatId,
    operator_id: userIds(dir, receiver, operatorUserId),
    external: operator.tenantKey !== receiver.tenantKey,
    operator_tenant_key: operator.tenantKey,
    name: chat.name,
    i18n_names: {},
  });
}

export function buildP2pEnteredEvent(input: { dir: Directory; receiver: App; eventId: string; chat: Chat; userId: string }) {
  const { dir, receiver, eventId, chat, userId } = input;
  const last = dir.messagesOf(chat.chatId).at(-1);
  return envelope(receiver, eventId, 'im.chat.access_event.bot_p2p_chat_entered_v1', {
    chat_id: chat.chatId,
    operator_id: userIds(dir, receiver, userId),
    ...(last ? { last_message_id: last.messageId, last_message_create_time: String(last.createTime) } : {}),
  });
}

/** `card.action.trigger` (callback schema 2.0): a user pressed a callback button on the app's card. */
export function buildCardActionEvent(input: {
  dir: Directory;
  receiver: App;
  eventId: string;
  message: Message;
  userId: string;
  value: unknown;
  name?: string;
  token: string;
}) {
  const { dir, receiver, eventId, message, userId, value, name, token } = input;
  const user = dir.users.get(userId)!;
  return envelope(receiver, eventId, 'card.action.trigger', {
    operator: { tenant_key: user.tenantKey, ...userIds(dir, receiver, userId), name: user.name },
    token,
    action: { value, tag: 'button', ...(name ? { name } : {}) },
    host: 'im_message',
    context: { open_message_id: message.messageId, open_chat_id: message.chatId },
  });
}
