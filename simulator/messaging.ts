import { newMessageId, newThreadId } from './ids';
import { isThreadedChat, type Chat, type Directory, type Message, type Party, type StoredMention } from './state';

/** Where a new message sits: at the top level, or replying to an earlier message of the same chat. */
export type Placement = { replyTo?: Message; inThread?: boolean };

/**
 * Appends a message to a chat. A reply keeps the conversation's root; a reply into a thread (or to a
 * message already in one) shares the root's thread, which the first such reply opens. In a topic
 * group (or a group in thread mode) every top-level message opens a topic of its own.
 */
export function appendMessage(
  dir: Directory,
  input: { chat: Chat; sender: Party; msgType: string; content: string; mentions?: StoredMention[]; cardId?: string } & Placement,
): Message {
  const now = Date.now();
  const message: Message = {
    messageId: newMessageId(),
    chatId: input.chat.chatId,
    sender: input.sender,
    msgType: input.msgType,
    content: input.content,
    updates: [],
    createTime: now,
    updateTime: now,
    mentions: input.mentions ?? [],
    reactions: [],
    ...(input.cardId ? { cardId: input.cardId } : {}),
  };
  const target = input.replyTo;
  if (target) {
    const root = target.rootId ? (dir.messages.get(target.rootId) ?? target) : target;
    message.rootId = root.messageId;
    message.parentId = target.messageId;
    if (target.threadId || root.threadId || input.inThread) {
      root.threadId ??= target.threadId ?? newThreadId();
      message.threadId = root.threadId;
    }
  } else if (isThreadedChat(input.chat)) {
    message.threadId = newThreadId();
  }
  dir.addMessage(message);
  return message;
}
