import { newMessageId, newThreadId } from './ids';
import type { Chat, Directory, Message, Party, StoredMention } from './state';

/** Where a new message sits: at the top level, or replying to an earlier message of the same chat. */
export type Placement = { replyTo?: Message; inThread?: boolean };

/**
 * Appends a message to a chat. A reply keeps the conversation's root; a reply into a thread (or to a
 * message already in one) shares the root's thread, which the first such reply opens.
 */
export function appendMessage(
  dir: Directory,
  input: { chat: Chat; sender: Party; msgType: string; content: string; mentions?: StoredMention[] } & Placement,
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
  }
  dir.addMessage(message);
  return message;
}
