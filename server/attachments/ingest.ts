import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/client';
import type { AttachmentFailure } from '../contract/attachments';
import { ATTACHMENT_CHUNK_BYTES, attachment } from '../db/schema';
import { emitWorkspaceEvent, workspaceEventNotice } from '../events';
import { sniffContentType } from './sniff';
import type { AttachmentStore } from './store';

export type AttachmentRow = typeof attachment.$inferSelect;

/**
 * Stores an attachment's bytes and marks it stored, with its sniffed type and real size, so that the
 * bytes and the row that says they are there commit together; the message's live views hear of it.
 */
export async function storeAttachmentBytes(
  db: Db,
  store: AttachmentStore,
  input: StoredBytes,
): Promise<{ contentType: string; sizeBytes: number }> {
  const contentType = await sniffContentType(input.bytes, input.fileName ?? null);
  const stored = { contentType, sizeBytes: input.bytes.length };
  if (store.kind === 'postgres' && input.bytes.length <= ATTACHMENT_CHUNK_BYTES) {
    // Nearly every image and most files fit one chunk: one statement, no transaction, so a busy
    // worker never holds a connection idle between the writes of a transaction.
    const ws = sql`${input.workspaceId}::uuid`;
    const id = sql`${input.attachmentId}::uuid`;
    await db.execute(sql`
      WITH chunk AS (
        INSERT INTO attachment_chunk (attachment_id, workspace_id, seq, bytes)
        SELECT ${id}, ${ws}, 0, ${input.bytes}::bytea WHERE ${input.bytes.length} > 0
        ON CONFLICT (attachment_id, seq) DO UPDATE SET bytes = EXCLUDED.bytes
        RETURNING 1
      ), rest AS (
        -- What an earlier, longer copy left beyond the first chunk (all of it for an empty file).
        DELETE FROM attachment_chunk WHERE workspace_id = ${ws} AND attachment_id = ${id} AND seq >= (SELECT count(*) FROM chunk)
        RETURNING 1
      ), ${markStored(input, stored, store.kind)}`);
    return stored;
  }
  await db.transaction(async (tx) => {
    await store.put(tx, { workspaceId: input.workspaceId, attachmentId: input.attachmentId }, input.bytes);
    await tx.execute(sql`WITH ${markStored(input, stored, store.kind)}`);
  });
  return stored;
}

type StoredBytes = { workspaceId: string; attachmentId: string; bytes: Buffer; fileName?: string | null; sessionId?: string | null };

/** The end of a statement that marks the attachment stored and tells the message's live views. */
function markStored(input: StoredBytes, stored: { contentType: string; sizeBytes: number }, storage: AttachmentStore['kind']): SQL {
  const ws = sql`${input.workspaceId}::uuid`;
  const event = input.sessionId
    ? workspaceEventNotice(ws, sql`json_build_object('type', 'chat.message.updated', 'session_id', ${input.sessionId}::uuid, 'message_id', m.chat_message_id)`, sql`${input.sessionId}::uuid`)
    : sql`NULL`;
  return sql`marked AS (
      UPDATE attachment SET state = 'stored', failure = NULL, content_type = ${stored.contentType}, size_bytes = ${stored.sizeBytes},
        stored_at = now(), storage = ${storage},
        -- A name the download brought (Content-Disposition) fills in one the message did not carry.
        file_name = COALESCE(file_name, ${input.fileName?.slice(0, 255) || null}::text)
      WHERE workspace_id = ${ws} AND id = ${input.attachmentId}::uuid
      RETURNING chat_message_id
    )
    SELECT ${event} FROM marked m WHERE m.chat_message_id IS NOT NULL`;
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
