import type { AckPayload, DeliveryEngine } from './delivery';
import { buildRecalledEvent } from './events';
import { newEventId } from './ids';
import type { App, Chat, Directory, Message } from './state';

export type Sent = { app_id: string; event_id: string };

/** Delivers one event type to each app, each with its own event_id and an envelope built for it. */
export function notifyApps(
  delivery: DeliveryEngine,
  apps: App[],
  eventType: string,
  build: (receiver: App, eventId: string) => unknown,
  opts: { imMessageId?: string; onAck?: (ack: AckPayload) => void } = {},
): Sent[] {
  return apps.map((receiver) => {
    const eventId = newEventId();
    delivery.deliver({
      appId: receiver.appId,
      eventId,
      eventType,
      envelope: build(receiver, eventId),
      ...(opts.imMessageId ? { imMessageId: opts.imMessageId } : {}),
      ...(opts.onAck ? { onAck: opts.onAck } : {}),
    });
    return { app_id: receiver.appId, event_id: eventId };
  });
}

export const botsOf = (dir: Directory, chat: Chat): App[] => [...chat.appIds].map((id) => dir.apps.get(id)!);

/** Marks a message recalled and tells every bot of its chat (`im.message.recalled_v1`). */
export function recallMessage(dir: Directory, delivery: DeliveryEngine, message: Message): Sent[] {
  message.recalledAt = Date.now();
  message.recallType = 'message_owner';
  message.updateTime = message.recalledAt;
  const chat = dir.chats.get(message.chatId)!;
  return notifyApps(delivery, botsOf(dir, chat), 'im.message.recalled_v1', (receiver, eventId) => buildRecalledEvent({ receiver, eventId, message }), {
    imMessageId: message.messageId,
  });
}
