import { sql } from 'drizzle-orm';
import { bigint, check, customType, foreignKey, index, integer, pgTable, primaryKey, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { attachmentFailures, attachmentKinds, attachmentSources, attachmentStates } from '../../contract/attachments';
import { chatMessage } from './chat';
import { larkInstallation } from './lark';
import { agentTask } from './tasks';
import { workspace } from './workspaces';

// The API shares these value lists; the contract is their one home.
export { attachmentFailures, attachmentKinds, attachmentSources, attachmentStates };

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/** The largest piece of an attachment's bytes in one row: big files are many rows, never one huge value. */
export const ATTACHMENT_CHUNK_BYTES = 1024 * 1024;

/**
 * A file that belongs to a chat message: an image or file a Lark user sent (downloaded after the
 * ACK, `pending` until then), one of a quoted or forwarded message, or one the agent produced
 * (`task_id` set until its answer is stored). A download that can never succeed ends `failed` with
 * its reason, which the agent and the web chat both see.
 */
export const attachment = pgTable(
  'attachment',
  {
    id: uuid().primaryKey().defaultRandom(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspace.id, { onDelete: 'cascade' }),
    chatMessageId: uuid(),
    // An agent's file before its answer is stored; the statement that stores the answer links it.
    taskId: uuid(),
    source: text({ enum: attachmentSources }).notNull().default('message'),
    position: integer().notNull().default(0),
    kind: text({ enum: attachmentKinds }).notNull(),
    fileName: text(),
    // Sniffed from the bytes once stored; what Lark or the agent claimed is not trusted.
    contentType: text(),
    sizeBytes: bigint({ mode: 'number' }),
    durationMs: integer(),
    state: text({ enum: attachmentStates }).notNull().default('pending'),
    failure: text({ enum: attachmentFailures }),
    storage: text().notNull().default('postgres'),
    // Where a Lark attachment comes from: the message that carries it and the resource key.
    larkMessageId: text(),
    larkFileKey: text(),
    larkResourceType: text(),
    attempts: integer().notNull().default(0),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    storedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    unique('attachment_id_workspace_unique').on(t.id, t.workspaceId),
    foreignKey({ name: 'attachment_message_fk', columns: [t.chatMessageId, t.workspaceId], foreignColumns: [chatMessage.id, chatMessage.workspaceId] }).onDelete('cascade'),
    foreignKey({ name: 'attachment_task_fk', columns: [t.taskId, t.workspaceId], foreignColumns: [agentTask.id, agentTask.workspaceId] }).onDelete('cascade'),
    index('attachment_message_idx').on(t.chatMessageId, t.position),
    index('attachment_task_idx').on(t.taskId).where(sql`${t.taskId} IS NOT NULL`),
    unique('attachment_position_unique').on(t.chatMessageId, t.source, t.position),
    check('attachment_owner_present', sql`${t.chatMessageId} IS NOT NULL OR ${t.taskId} IS NOT NULL`),
    check('attachment_source_valid', sql`${t.source} IN ('message', 'quoted', 'forwarded', 'agent')`),
    check('attachment_kind_valid', sql`${t.kind} IN ('image', 'file', 'audio', 'video', 'sticker')`),
    check('attachment_state_valid', sql`${t.state} IN ('pending', 'stored', 'failed')`),
    check(
      'attachment_failure_valid',
      sql`(${t.state} = 'failed') = (${t.failure} IS NOT NULL) AND (${t.failure} IS NULL OR ${t.failure} IN ('too_large', 'not_found', 'forbidden', 'not_downloadable', 'download_failed'))`,
    ),
    check('attachment_stored_has_bytes', sql`${t.state} <> 'stored' OR (${t.contentType} IS NOT NULL AND ${t.sizeBytes} IS NOT NULL AND ${t.storedAt} IS NOT NULL)`),
    check('attachment_storage_valid', sql`${t.storage} IN ('postgres', 's3')`),
    check('attachment_size_nonneg', sql`${t.sizeBytes} IS NULL OR ${t.sizeBytes} >= 0`),
    check('attachment_position_nonneg', sql`${t.position} >= 0 AND ${t.attempts} >= 0`),
    check('attachment_name_len', sql`${t.fileName} IS NULL OR char_length(${t.fileName}) BETWEEN 1 AND 255`),
    check('attachment_lark_type_valid', sql`${t.larkResourceType} IS NULL OR ${t.larkResourceType} IN ('image', 'file')`),
  ],
);

/** The bytes of an attachment kept in Postgres, in chunks of at most ATTACHMENT_CHUNK_BYTES. */
export const attachmentChunk = pgTable(
  'attachment_chunk',
  {
    attachmentId: uuid().notNull(),
    workspaceId: uuid().notNull(),
    seq: integer().notNull(),
    bytes: bytea().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.attachmentId, t.seq] }),
    foreignKey({ name: 'attachment_chunk_attachment_fk', columns: [t.attachmentId, t.workspaceId], foreignColumns: [attachment.id, attachment.workspaceId] }).onDelete('cascade'),
    check('attachment_chunk_seq_nonneg', sql`${t.seq} >= 0`),
    check('attachment_chunk_size', sql`octet_length(${t.bytes}) BETWEEN 1 AND ${sql.raw(String(ATTACHMENT_CHUNK_BYTES))}`),
  ],
);

/**
 * What the bot uploaded to Lark for an answer (an image's image_key, a file's file_key), keyed on
 * where the bytes came from, so a retried delivery sends the same key instead of uploading again.
 */
export const larkUploadedMedia = pgTable(
  'lark_uploaded_media',
  {
    installationId: uuid().notNull(),
    workspaceId: uuid().notNull(),
    // `attachment:<id>` or `sha256:<hex>` of the bytes.
    sourceKey: text().notNull(),
    kind: text().notNull(),
    larkKey: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.installationId, t.sourceKey, t.kind] }),
    foreignKey({ name: 'lark_uploaded_media_installation_fk', columns: [t.installationId, t.workspaceId], foreignColumns: [larkInstallation.id, larkInstallation.workspaceId] }).onDelete('cascade'),
    check('lark_uploaded_media_kind_valid', sql`${t.kind} IN ('image', 'file')`),
  ],
);

export type { AttachmentFailure, AttachmentKind, AttachmentSource } from '../../contract/attachments';
