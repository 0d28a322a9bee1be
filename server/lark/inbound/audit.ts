import type { DbOrTx } from '../../db/client';
import { larkInboundAudit, type LarkDropReason } from '../../db/schema';

/** The only write path for dropped events: routing data and the reason. It takes no content by design. */
export async function recordInboundDrop(
  db: DbOrTx,
  input: { installationId: string | null; chatId: string | null; eventType: string; eventId: string | null; messageId: string | null; reason: LarkDropReason },
): Promise<void> {
  await db.insert(larkInboundAudit).values({
    installationId: input.installationId,
    larkChatId: input.chatId,
    eventType: input.eventType.slice(0, 200),
    larkEventId: input.eventId,
    larkMessageId: input.messageId,
    dropReason: input.reason,
  });
}
