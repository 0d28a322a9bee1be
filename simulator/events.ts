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
