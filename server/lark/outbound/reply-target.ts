import type { OutboxTarget } from './outbox';

/** The Lark message being answered, as far as placing the answer is concerned. */
export type ReplyOrigin = { messageId: string; threadId: string | null; rootId: string | null };

/**
 * Where an answer goes: a question asked inside a thread is answered in that thread; anything else
 * (including a question typed in the web chat of a Lark session, which has no origin) goes to the chat.
 */
export function replyTargetFor(chatId: string, origin: ReplyOrigin | null): OutboxTarget {
  if (origin && (origin.threadId || origin.rootId)) return { replyToMessageId: origin.messageId, replyInThread: true };
  return { receiveIdType: 'chat_id', receiveId: chatId };
}
