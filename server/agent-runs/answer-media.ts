import type { Logger } from 'pino';
import type { Db } from '../db/client';
import { attachment } from '../db/schema';
import { storeAttachmentBytes } from '../attachments/ingest';
import { INLINE_IMAGE_TYPES, sniffContentType } from '../attachments/sniff';
import type { AttachmentStore } from '../attachments/store';
import type { GuardedFetch } from '../net/guarded-fetch';
import { readBodyCapped } from '../net/read-capped';
import type { AgentRunResult } from './runtime/types';
import type { AgentTask } from '../services/tasks';

/** An image in an answer larger than this is left as a link (Lark takes images up to 10 MB). */
export const ANSWER_IMAGE_MAX_BYTES = 10 * 1024 * 1024;
/** A file the agent produces may be as large as a file a person sends. */
export const ANSWER_FILE_MAX_BYTES = 100 * 1024 * 1024;
/** How long fetching an image the agent linked may take. */
const IMAGE_FETCH_TIMEOUT_MS = 10_000;

// `![alt](target)`: a data URL or an http(s) URL, optionally with a title.
const MARKDOWN_IMAGE = /!\[([^\]\n]*)\]\(\s*(data:[^\s)]+|https?:\/\/[^\s)]+)(?:\s+"[^"\n]*")?\s*\)/g;

export type MaterializedAnswer = { text: string; attachmentIds: string[] };

function decodeDataUrl(url: string): Buffer | null {
  const match = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(url);
  if (!match) return null;
  try {
    return match[2] ? Buffer.from(match[3], 'base64') : Buffer.from(decodeURIComponent(match[3]), 'utf8');
  } catch {
    return null;
  }
}

/** Fetches an image the agent linked, through the guarded fetch (public addresses only, no redirects), within the image limit. */
async function fetchImage(fetch: GuardedFetch, url: string, signal: AbortSignal): Promise<Buffer | null> {
  const res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(IMAGE_FETCH_TIMEOUT_MS)]) });
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    return null;
  }
  return readBodyCapped(res, ANSWER_IMAGE_MAX_BYTES, () => new Error('the image is larger than an answer may carry')).catch(() => null);
}

function fileNameFor(alt: string, contentType: string, index: number): string {
  const ext = contentType.split('/')[1]?.replace('jpeg', 'jpg').replace(/[^a-z0-9]/g, '') || 'bin';
  const base = alt.trim().replace(/[^\p{L}\p{N} ._-]+/gu, '').slice(0, 60).trim() || `image-${index + 1}`;
  return `${base}.${ext}`;
}

/**
 * Turns what a run produced into what is stored: images in its text (data URLs, public URLs the
 * guarded fetch can reach) and its files become the task's attachments, and the text refers to them
 * as `![alt](attachment:<id>)`. An image that cannot be read or fetched stays a plain link; nothing
 * here fails the answer. The attachments belong to the task until the answer is stored with them.
 */
export async function materializeAnswer(
  deps: { db: Db; store: AttachmentStore; fetch: GuardedFetch | null; log: Logger; signal: AbortSignal },
  task: AgentTask,
  result: AgentRunResult,
): Promise<MaterializedAnswer> {
  const text = typeof result === 'string' ? result : result.text;
  const files = typeof result === 'string' ? [] : (result.files ?? []);
  if (files.length === 0 && !text.includes('![')) return { text, attachmentIds: [] };

  const ids: string[] = [];
  let position = 0;
  const create = async (kind: 'image' | 'file', fileName: string, bytes: Buffer): Promise<string> => {
    const [row] = await deps.db
      .insert(attachment)
      .values({ workspaceId: task.workspaceId, taskId: task.id, source: 'agent', position: position++, kind, fileName: fileName.slice(0, 255), state: 'pending' })
      .returning({ id: attachment.id });
    await storeAttachmentBytes(deps.db, deps.store, { workspaceId: task.workspaceId, attachmentId: row.id, bytes, fileName });
    ids.push(row.id);
    return row.id;
  };

  let out = '';
  let last = 0;
  let index = 0;
  for (const match of text.matchAll(MARKDOWN_IMAGE)) {
    const [whole, alt, target] = match;
    out += text.slice(last, match.index);
    last = match.index + whole.length;
    let replacement = target.startsWith('data:') ? alt || 'image' : `[${alt || target}](${target})`;
    try {
      const bytes = target.startsWith('data:') ? decodeDataUrl(target) : deps.fetch ? await fetchImage(deps.fetch, target, deps.signal) : null;
      if (bytes && bytes.length > 0 && bytes.length <= ANSWER_IMAGE_MAX_BYTES) {
        const type = await sniffContentType(bytes, null);
        if (INLINE_IMAGE_TYPES.has(type)) replacement = `![${alt}](attachment:${await create('image', fileNameFor(alt, type, index), bytes)})`;
      }
    } catch (err) {
      deps.log.info({ err }, 'an image of the answer could not be stored; it stays a link');
    }
    index++;
    out += replacement;
  }
  out += text.slice(last);

  for (const file of files) {
    if (file.data.length === 0 || file.data.length > ANSWER_FILE_MAX_BYTES) {
      deps.log.warn({ name: file.name, size: file.data.length }, 'an agent file is empty or over the limit; left out');
      continue;
    }
    const type = await sniffContentType(file.data, file.name);
    await create(INLINE_IMAGE_TYPES.has(type) ? 'image' : 'file', file.name || 'file', file.data);
  }
  return { text: out, attachmentIds: ids };
}
