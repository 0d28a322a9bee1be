import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { AppLocale } from '../../../i18n/locales';
import { postgresAttachmentStore, readAttachmentBytes } from '../../attachments/store';
import type { Db } from '../../db/client';
import { attachmentUrl } from '../../services/attachments';
import { LarkApiError, type LarkHttpClient, type LarkUploadFileType } from '../api';
import { botText } from './bot-text';
import { escapeLarkMarkdown, escapeLarkText } from './lark-markup';
import { decideRetry, DELIVERY_HOLD_SECONDS } from './retry-policy';

// The images and files an agent produced reach Lark with its answer: images the answer shows are
// uploaded and embedded in its cards by image_key; everything else follows the text as messages of
// its own. What Lark will not take becomes a link to the web app, never a lost answer.

/** Lark's upload limits: images 10 MB, files 30 MB (and never empty). */
export const LARK_IMAGE_MAX_BYTES = 10 * 1024 * 1024;
export const LARK_FILE_MAX_BYTES = 30 * 1024 * 1024;

/** The image formats Lark's image upload takes; other images (SVG above all) go as files. */
const LARK_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/bmp', 'image/tiff', 'image/x-icon', 'image/vnd.microsoft.icon']);

/** An upload gets longer than an ordinary call: half a minute, and two seconds more per MB. */
const uploadTimeoutMs = (bytes: number) => 30_000 + Math.ceil(bytes / (1024 * 1024)) * 2_000;

/** A stored attachment the agent produced for the answer being delivered. */
export type AnswerAttachment = {
  id: string;
  kind: string;
  fileName: string | null;
  contentType: string;
  sizeBytes: number;
  durationMs: number | null;
};

/** The agent's stored attachments of a run's answer, in the order the agent produced them. */
export async function answerAttachments(db: Db, input: { workspaceId: string; taskId: string }): Promise<AnswerAttachment[]> {
  const res = await db.execute<{ id: string; kind: string; file_name: string | null; content_type: string; size_bytes: string | number; duration_ms: number | null }>(sql`
    SELECT id, kind, file_name, content_type, size_bytes, duration_ms FROM attachment
    WHERE workspace_id = ${input.workspaceId}::uuid AND task_id = ${input.taskId}::uuid AND chat_message_id IS NOT NULL
      AND source = 'agent' AND state = 'stored'
    ORDER BY position, created_at, id`);
  return res.rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    fileName: r.file_name,
    contentType: r.content_type,
    sizeBytes: Number(r.size_bytes),
    durationMs: r.duration_ms,
  }));
}

const mediaTypeOf = (contentType: string) => contentType.split(';')[0].trim().toLowerCase();
const extensionOf = (fileName: string | null) => (fileName ? (/\.([A-Za-z0-9]{1,10})$/.exec(fileName)?.[1].toLowerCase() ?? '') : '');

const OFFICE_TYPES: Array<[RegExp, LarkUploadFileType]> = [
  [/^application\/(msword|vnd\.ms-word|vnd\.openxmlformats-officedocument\.wordprocessingml)/, 'doc'],
  [/^application\/(vnd\.ms-excel|vnd\.openxmlformats-officedocument\.spreadsheetml)/, 'xls'],
  [/^application\/(vnd\.ms-powerpoint|vnd\.openxmlformats-officedocument\.presentationml)/, 'ppt'],
];
const OFFICE_EXTENSIONS: Record<string, LarkUploadFileType> = { doc: 'doc', docx: 'doc', xls: 'xls', xlsx: 'xls', ppt: 'ppt', pptx: 'ppt' };
// What office documents sniff as when their magic says only "a container".
const CONTAINER_TYPES = new Set(['application/x-cfb', 'application/zip', 'application/octet-stream']);

/**
 * Lark's `file_type` for an upload. Lark checks the bytes of pdf, mp4 and opus uploads, so those
 * follow the sniffed type only; office documents follow it too, or their extension when the bytes
 * only tell a container; anything else is a `stream`.
 */
export function larkFileType(contentType: string, fileName: string | null): LarkUploadFileType {
  const type = mediaTypeOf(contentType);
  if (type === 'application/pdf') return 'pdf';
  if (type === 'video/mp4') return 'mp4';
  if (type === 'audio/ogg' || type === 'audio/opus') return 'opus';
  const office = OFFICE_TYPES.find(([pattern]) => pattern.test(type))?.[1];
  if (office) return office;
  if (CONTAINER_TYPES.has(type)) return OFFICE_EXTENSIONS[extensionOf(fileName)] ?? 'stream';
  return 'stream';
}

/** A size as people read it (1024-based, like file managers): 512 B, 14 KB, 2.5 MB, 40 MB. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 || value >= 10 ? String(Math.round(value)) : String(Math.round(value * 10) / 10);
  return `${shown} ${units[unit]}`;
}

const isLarkImage = (a: AnswerAttachment) => a.kind === 'image' && LARK_IMAGE_TYPES.has(mediaTypeOf(a.contentType)) && a.sizeBytes > 0 && a.sizeBytes <= LARK_IMAGE_MAX_BYTES;

/** A refusal retrying cannot change (the image is refused, too big, of a type Lark does not take). */
function isPermanentRefusal(err: unknown): boolean {
  return err instanceof LarkApiError && !decideRetry(err, 1).retry;
}

export type AnswerMediaDeps = {
  db: Db;
  /** Uploads the answer's images and files (messages go through `sendMessage`). */
  uploader: Pick<LarkHttpClient, 'uploadImage' | 'uploadFile'>;
  log: Logger;
  locale: AppLocale;
  workspaceId: string;
  installationId: string;
  appUrl: string;
  /** Holds the row this many seconds more: an upload may outlast the hold of one part. */
  extendHold: (seconds: number) => Promise<void>;
  /** Sends one message of the answer where the answer goes, with the idempotency uuid of step `part`. */
  sendMessage: (msgType: 'text' | 'image' | 'file', content: Record<string, string>, part: number) => Promise<string>;
};

/** An answer ready for Lark: its text with the images it shows uploaded, and one step per attachment that follows it. */
export type PreparedAnswer = {
  /** The answer's markdown; each image of an attachment is an uploaded image_key or, failing that, a link to the web app. */
  text: string;
  /** The image keys `text` may show (everything else that looks like an image is made safe by sanitizeAgentMarkdown). */
  imageKeys: ReadonlySet<string>;
  /** One message each, sent after the text parts; `part` is the step's index among all parts of the row. */
  attachmentSteps: Array<(part: number) => Promise<string>>;
};

// `![alt](attachment:<uuid>)`, as the runner writes the images of an answer.
const ATTACHMENT_IMAGE = /!\[((?:\\.|[^\]\\\n])*)\]\(\s*<?attachment:([0-9a-fA-F-]{36})>?\s*\)/g;

/**
 * Uploads what the answer's text shows (once per installation: a retried delivery finds the key it
 * stored) and plans a message for every other attachment. A transient upload failure throws, so the
 * row is retried like any send; a permanent one leaves a link to the web app in its place.
 */
export async function prepareAnswer(deps: AnswerMediaDeps, text: string, attachments: AnswerAttachment[]): Promise<PreparedAnswer> {
  const byId = new Map(attachments.map((a) => [a.id.toLowerCase(), a]));
  const downloadUrl = (a: AnswerAttachment) => `${deps.appUrl.replace(/\/+$/, '')}${attachmentUrl(deps.workspaceId, a.id)}`;

  // Each image the text shows, once: its key, or null when Lark will not take it.
  const shown = new Map<string, string | null>();
  for (const match of text.matchAll(ATTACHMENT_IMAGE)) {
    const a = byId.get(match[2].toLowerCase());
    if (!a || a.kind !== 'image' || shown.has(a.id)) continue;
    shown.set(a.id, isLarkImage(a) ? await uploaded(deps, a, 'image') : null);
  }
  const imageKeys = new Set<string>();
  const resolved = text.replace(ATTACHMENT_IMAGE, (whole, alt: string, id: string) => {
    const a = byId.get(id.toLowerCase());
    if (!a || !shown.has(a.id)) return whole;
    const key = shown.get(a.id);
    if (key) {
      imageKeys.add(key);
      return `![${alt}](${key})`;
    }
    return `[${alt.trim() || escapeLarkMarkdown(a.fileName ?? 'image')}](${downloadUrl(a)})`;
  });

  const t = botText(deps.locale);
  const linkNotice = (a: AnswerAttachment, part: number) => {
    const values = { name: escapeLarkText(a.fileName ?? 'file'), size: formatSize(a.sizeBytes), url: downloadUrl(a) };
    const words = a.sizeBytes > LARK_FILE_MAX_BYTES ? t('media.tooLarge', values) : t('media.notSent', values);
    return deps.sendMessage('text', { text: words }, part);
  };
  const attachmentSteps = attachments
    .filter((a) => !shown.has(a.id))
    .map((a) => async (part: number) => {
      if (isLarkImage(a)) {
        const key = await uploaded(deps, a, 'image');
        return key ? deps.sendMessage('image', { image_key: key }, part) : linkNotice(a, part);
      }
      if (a.sizeBytes > 0 && a.sizeBytes <= LARK_FILE_MAX_BYTES) {
        const key = await uploaded(deps, a, 'file');
        if (key) return deps.sendMessage('file', { file_key: key }, part);
      }
      return linkNotice(a, part);
    });
  return { text: resolved, imageKeys, attachmentSteps };
}

/**
 * The Lark key of an attachment uploaded as `kind` by this installation: the one stored by an
 * earlier attempt, or a new upload, stored before it is used. Null when Lark refuses it for good.
 */
async function uploaded(deps: AnswerMediaDeps, a: AnswerAttachment, kind: 'image' | 'file'): Promise<string | null> {
  const sourceKey = `attachment:${a.id}`;
  const known = await deps.db.execute<{ lark_key: string }>(sql`
    SELECT lark_key FROM lark_uploaded_media WHERE installation_id = ${deps.installationId}::uuid AND source_key = ${sourceKey} AND kind = ${kind}`);
  if (known.rows[0]) return known.rows[0].lark_key;

  const timeoutMs = uploadTimeoutMs(a.sizeBytes);
  await deps.extendHold(Math.ceil(timeoutMs / 1000) + DELIVERY_HOLD_SECONDS);
  const bytes = await readAttachmentBytes(postgresAttachmentStore, deps.db, { workspaceId: deps.workspaceId, attachmentId: a.id });
  let key: string;
  try {
    key =
      kind === 'image'
        ? await deps.uploader.uploadImage(bytes, { timeoutMs })
        : await deps.uploader.uploadFile(
            { bytes, fileName: a.fileName ?? 'file', fileType: larkFileType(a.contentType, a.fileName), ...(a.durationMs !== null && { durationMs: a.durationMs }) },
            { timeoutMs },
          );
  } catch (err) {
    if (!isPermanentRefusal(err)) throw err;
    deps.log.warn({ err, attachmentId: a.id, kind }, 'lark refused an upload of the answer; a link to the web app takes its place');
    return null;
  }
  // Two senders racing on one row both upload; the first key stored is the one every message uses.
  const stored = await deps.db.execute<{ lark_key: string }>(sql`
    INSERT INTO lark_uploaded_media (installation_id, workspace_id, source_key, kind, lark_key)
    VALUES (${deps.installationId}::uuid, ${deps.workspaceId}::uuid, ${sourceKey}, ${kind}, ${key})
    ON CONFLICT (installation_id, source_key, kind) DO UPDATE SET lark_key = lark_uploaded_media.lark_key
    RETURNING lark_key`);
  return stored.rows[0]?.lark_key ?? key;
}
