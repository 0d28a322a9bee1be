import { and, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { ATTACHMENT_CHUNK_BYTES, attachmentChunk } from '../db/schema';

export type AttachmentRef = { workspaceId: string; attachmentId: string };

/**
 * Where attachment bytes live, shared by every web and worker replica. `put` runs in the caller's
 * transaction when given one, so the bytes and the row that says they are there commit together.
 * Postgres is the default (nothing else must run); an object store (S3-compatible) implements the
 * same three verbs and records `storage = 's3'` on its rows.
 */
export type AttachmentStore = {
  readonly kind: 'postgres' | 's3';
  put(db: DbOrTx, ref: AttachmentRef, bytes: Buffer): Promise<void>;
  /** The bytes in order, one chunk at a time (a 100 MB file never sits in memory whole on a read). */
  read(db: DbOrTx, ref: AttachmentRef): AsyncIterable<Buffer>;
  remove(db: DbOrTx, ref: AttachmentRef): Promise<void>;
}

/** Keeps bytes in `attachment_chunk`, in pieces of at most 1 MiB. */
export const postgresAttachmentStore: AttachmentStore = {
  kind: 'postgres',
  async put(db, ref, bytes) {
    await db.delete(attachmentChunk).where(and(eq(attachmentChunk.workspaceId, ref.workspaceId), eq(attachmentChunk.attachmentId, ref.attachmentId)));
    for (let seq = 0, offset = 0; offset < bytes.length; seq++, offset += ATTACHMENT_CHUNK_BYTES) {
      await db.insert(attachmentChunk).values({
        attachmentId: ref.attachmentId,
        workspaceId: ref.workspaceId,
        seq,
        bytes: bytes.subarray(offset, offset + ATTACHMENT_CHUNK_BYTES),
      });
    }
  },
  async *read(db, ref) {
    // One chunk per statement: memory stays at one chunk whatever the file's size.
    for (let seq = 0; ; seq++) {
      const [row] = await db
        .select({ bytes: attachmentChunk.bytes })
        .from(attachmentChunk)
        .where(and(eq(attachmentChunk.workspaceId, ref.workspaceId), eq(attachmentChunk.attachmentId, ref.attachmentId), eq(attachmentChunk.seq, seq)));
      if (!row) return;
      yield row.bytes;
    }
  },
  async remove(db, ref) {
    await db.execute(sql`DELETE FROM attachment_chunk WHERE workspace_id = ${ref.workspaceId} AND attachment_id = ${ref.attachmentId}`);
  },
};

/** Reads a whole attachment (for what is bounded: images for the model, inlined text, uploads). */
export async function readAttachmentBytes(store: AttachmentStore, db: DbOrTx, ref: AttachmentRef): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of store.read(db, ref)) chunks.push(chunk);
  return Buffer.concat(chunks);
}
