import { and, asc, eq, inArray } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { attachment, chatMessage, type AttachmentFailure } from '../db/schema';
import type { AttachmentView } from '../contract/attachments';
import { AppError, notFound } from '../errors';
import { ATTACHMENT_DOWNLOAD_CSP } from '../http/security-headers';
import { postgresAttachmentStore, type AttachmentStore } from '../attachments/store';
import { INLINE_IMAGE_TYPES } from '../attachments/sniff';
import { getChatSessionOrThrow } from './chat';

type AttachmentRow = typeof attachment.$inferSelect;

export const attachmentUrl = (workspaceId: string, attachmentId: string) => `/api/workspaces/${workspaceId}/attachments/${attachmentId}`;

export function attachmentView(workspaceId: string, row: AttachmentRow): AttachmentView {
  return {
    id: row.id,
    kind: row.kind,
    source: row.source,
    file_name: row.fileName,
    content_type: row.contentType,
    size_bytes: row.sizeBytes,
    state: row.state,
    failure: row.failure,
    url: row.state === 'stored' ? attachmentUrl(workspaceId, row.id) : null,
  };
}

/** The attachments of some messages of one workspace, by message id, each list in display order. */
export async function listMessageAttachments(db: DbOrTx, input: { workspaceId: string; messageIds: string[] }): Promise<Map<string, AttachmentView[]>> {
  const byMessage = new Map<string, AttachmentView[]>();
  if (input.messageIds.length === 0) return byMessage;
  const rows = await db
    .select()
    .from(attachment)
    .where(and(eq(attachment.workspaceId, input.workspaceId), inArray(attachment.chatMessageId, input.messageIds)))
    .orderBy(asc(attachment.chatMessageId), asc(attachment.position), asc(attachment.source), asc(attachment.createdAt));
  for (const row of rows) {
    if (!row.chatMessageId) continue;
    const list = byMessage.get(row.chatMessageId) ?? [];
    list.push(attachmentView(input.workspaceId, row));
    byMessage.set(row.chatMessageId, list);
  }
  return byMessage;
}

const FAILURE_TEXT: Record<AttachmentFailure, string> = {
  too_large: 'it is larger than this server accepts',
  not_found: 'Lark no longer has it',
  forbidden: 'the bot may not read it',
  not_downloadable: 'Lark does not let bots download it',
  download_failed: 'every download attempt failed',
};

export type AttachmentDownload = {
  fileName: string;
  contentType: string;
  sizeBytes: number;
  /** A raster image a browser may show in the page; everything else is only ever a download. */
  inline: boolean;
  body: ReadableStream<Uint8Array>;
};

/**
 * An attachment's bytes for a member who may read its message: the message's chat session must be
 * theirs (sessions are private to their creator). Whatever they may not see is "not found", the
 * same answer as for an id that exists nowhere.
 */
export async function openAttachmentDownload(
  db: DbOrTx,
  input: { workspaceId: string; attachmentId: string; viewerUserId: string },
): Promise<AttachmentDownload> {
  const [row] = await db
    .select({ attachment, sessionId: chatMessage.sessionId })
    .from(attachment)
    .innerJoin(chatMessage, and(eq(chatMessage.id, attachment.chatMessageId), eq(chatMessage.workspaceId, attachment.workspaceId)))
    .where(and(eq(attachment.workspaceId, input.workspaceId), eq(attachment.id, input.attachmentId)));
  if (!row) throw notFound('Attachment');
  try {
    await getChatSessionOrThrow(db, { workspaceId: input.workspaceId, sessionId: row.sessionId, viewerUserId: input.viewerUserId });
  } catch (err) {
    if (err instanceof AppError && err.code === 'not_found') throw notFound('Attachment');
    throw err;
  }
  const a = row.attachment;
  if (a.state === 'pending') throw new AppError('not_found', 'This attachment is not downloaded yet; try again in a moment');
  if (a.state === 'failed') throw new AppError('not_found', `This attachment was not downloaded: ${FAILURE_TEXT[a.failure ?? 'download_failed']}`);
  const contentType = a.contentType ?? 'application/octet-stream';
  const sizeBytes = a.sizeBytes ?? 0;
  return {
    fileName: a.fileName ?? fallbackFileName(a.kind, a.id, contentType),
    contentType,
    sizeBytes,
    inline: INLINE_IMAGE_TYPES.has(contentType),
    body: byteStream(storeFor(a.storage), db, { workspaceId: input.workspaceId, attachmentId: a.id }, sizeBytes),
  };
}

function storeFor(kind: string): AttachmentStore {
  if (kind === postgresAttachmentStore.kind) return postgresAttachmentStore;
  throw new Error(`no attachment store of kind ${kind} is configured`);
}

const EXTENSIONS: Record<string, string> = {
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/gif': '.gif',
  'image/webp': '.webp',
  'application/pdf': '.pdf',
  'text/plain': '.txt',
};

/** Lark images carry no name: a download still gets one with the right extension. */
function fallbackFileName(kind: string, id: string, contentType: string): string {
  return `${kind}-${id.slice(0, 8)}${EXTENSIONS[contentType] ?? ''}`;
}

/**
 * The store's chunks as a response body, pulled one at a time as the client reads. Bytes that do
 * not add up to the stored size (the row went away mid-read) end the stream with an error, so the
 * client sees a broken download rather than a short file that looks whole.
 */
function byteStream(store: AttachmentStore, db: DbOrTx, ref: { workspaceId: string; attachmentId: string }, expected: number): ReadableStream<Uint8Array> {
  let chunks: AsyncIterator<Buffer> | undefined;
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      chunks ??= store.read(db, ref)[Symbol.asyncIterator]();
      const next = await chunks.next();
      if (next.done) {
        if (sent === expected) controller.close();
        else controller.error(new Error(`attachment ${ref.attachmentId} ended after ${sent} of ${expected} bytes`));
        return;
      }
      sent += next.value.length;
      controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.length));
    },
    async cancel() {
      await chunks?.return?.();
    },
  });
}

/** ASCII-only, no quotes or backslashes, no percent signs some browsers would decode: safe inside filename="...". */
function asciiFileName(name: string): string {
  const ascii = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^\x20-\x7e]|["\\%;]/g, '_');
  return ascii.trim() || 'download';
}

/** RFC 5987 ext-value: UTF-8, percent-encoding everything outside attr-char. */
function encodeRfc5987(name: string): string {
  return encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function contentDisposition(type: 'inline' | 'attachment', fileName: string): string {
  // Path separators and control characters have no place in a name the browser saves under.
  const clean = Array.from(fileName, (c) => (c < ' ' || c === '\x7f' || c === '/' || c === '\\' ? '_' : c)).join('');
  return `${type}; filename="${asciiFileName(clean)}"; filename*=UTF-8''${encodeRfc5987(clean)}`;
}

/** The headers of a download: nothing from the file decides how a browser treats it. */
export function downloadHeaders(download: Pick<AttachmentDownload, 'fileName' | 'contentType' | 'sizeBytes' | 'inline'>, opts: { forceDownload: boolean }): Headers {
  const inline = download.inline && !opts.forceDownload;
  return new Headers({
    'Content-Type': download.inline ? download.contentType : 'application/octet-stream',
    'Content-Disposition': contentDisposition(inline ? 'inline' : 'attachment', download.fileName),
    'Content-Length': String(download.sizeBytes),
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': ATTACHMENT_DOWNLOAD_CSP,
    'Cache-Control': 'private, max-age=3600',
  });
}
