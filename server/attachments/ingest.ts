import { and, eq, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/client';
import type { AttachmentFailure } from '../contract/attachments';
import { attachment } from '../db/schema';
import { emitWorkspaceEvent } from '../events';
import { sniffContentType } from './sniff';
import type { AttachmentStore } from './store';

export type AttachmentRow = typeof attachment.$inferSelect;

/**
 * Stores an attachment's bytes and marks it stored, with its sniffed type and real size, in one
 * transaction; the message's live views hear of it. A row already stored is left as it is.
 */
export async function storeAttachmentBytes(
  db: Db,
  store: AttachmentStore,
  input: { workspaceId: string; attachmentId: string; bytes: Buffer; fileName?: string | null; sessionId?: string | null },
): Promise<{ contentType: string; sizeBytes: number }> {
  const contentType = await sniffContentType(input.bytes, input.fileName ?? null);
  await db.transaction(async (tx) => {
    await store.put(tx, { workspaceId: input.workspaceId, attachmentId: input.attachmentId }, input.bytes);
    const [row] = await tx
      .update(attachment)
      .set({
        state: 'stored',
        failure: null,
        contentType,
        sizeBytes: input.bytes.length,
        storedAt: sql`now()`,
        storage: store.kind,
        // A name the download brought (Content-Disposition) fills in one the message did not carry.
        fileName: sql`COALESCE(${attachment.fileName}, ${input.fileName?.slice(0, 255) || null}::text)`,
      })
      .where(and(eq(attachment.workspaceId, input.workspaceId), eq(attachment.id, input.attachmentId)))
      .returning({ messageId: attachment.chatMessageId });
    if (row?.messageId && input.sessionId) await emitWorkspaceEvent(tx, input.workspaceId, { type: 'chat.message.updated', session_id: input.sessionId, message_id: row.messageId });
  });
  return { contentType, sizeBytes: input.bytes.length };
}

/** Ends an attachment that can never be downloaded: the agent and the web chat see why. */
export async function failAttachment(
  db: DbOrTx,
  input: { workspaceId: string; attachmentId: string; failure: AttachmentFailure; sizeBytes?: number | null; sessionId?: string | null },
): Promise<void> {
  const [row] = await db
    .update(attachment)
    .set({ state: 'failed', failure: input.failure, ...(input.sizeBytes != null && { sizeBytes: input.sizeBytes }) })
    .where(and(eq(attachment.workspaceId, input.workspaceId), eq(attachment.id, input.attachmentId), sql`${attachment.state} <> 'stored'`))
    .returning({ messageId: attachment.chatMessageId });
  if (row?.messageId && input.sessionId) await emitWorkspaceEvent(db, input.workspaceId, { type: 'chat.message.updated', session_id: input.sessionId, message_id: row.messageId });
}
