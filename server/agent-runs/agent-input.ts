import { and, eq, inArray, sql } from 'drizzle-orm';
import type { AgentContext, AttachmentFailure, ContextMessage } from '../contract/attachments';
import type { DbOrTx } from '../db/client';
import { attachment } from '../db/schema';
import { INLINE_IMAGE_TYPES, isReadableText } from '../attachments/sniff';
import type { AttachmentStore } from '../attachments/store';
import { formatBytes } from './runtime/turn-text';
import type { ChatTurn, RunFile, RunImage } from './runtime/types';
import type { ClaimedTask } from '../services/tasks';

export type AgentInputLimits = {
  /** A text-like file up to this size is inlined whole; a bigger one is inlined up to it and marked truncated. */
  inlineFileMaxBytes: number;
  /** Images above this size are described, not shown (models refuse very large images). */
  imageMaxBytes: number;
  /** At most this many images are shown to the model per question. */
  maxImages: number;
  /** The context block of a question is cut to this many characters (the oldest recent messages go first). */
  contextMaxChars: number;
};

export const DEFAULT_AGENT_INPUT_LIMITS: AgentInputLimits = { inlineFileMaxBytes: 64 * 1024, imageMaxBytes: 8 * 1024 * 1024, maxImages: 8, contextMaxChars: 16_000 };

type AttachmentRow = Pick<
  typeof attachment.$inferSelect,
  'id' | 'chatMessageId' | 'source' | 'position' | 'kind' | 'fileName' | 'contentType' | 'sizeBytes' | 'state' | 'failure'
>;

const FAILURE_WORDS: Record<AttachmentFailure, string> = {
  too_large: 'too large to download',
  not_found: 'deleted or not found',
  forbidden: 'the bot may not download it',
  not_downloadable: 'Lark does not allow downloading it',
  download_failed: 'the download failed',
};

/** Why an attachment has no content, in words for the agent. */
export function unavailableReason(row: Pick<AttachmentRow, 'state' | 'failure' | 'sizeBytes'>): string {
  if (row.state === 'pending') return 'not downloaded yet';
  const words = FAILURE_WORDS[row.failure ?? 'download_failed'];
  return row.failure === 'too_large' && row.sizeBytes ? `${words} (${formatBytes(row.sizeBytes)})` : words;
}

/** Reads at most `max` bytes of an attachment (and whether there was more). */
async function readUpTo(store: AttachmentStore, db: DbOrTx, ref: { workspaceId: string; attachmentId: string }, max: number): Promise<{ bytes: Buffer; more: boolean }> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of store.read(db, ref)) {
    chunks.push(chunk);
    total += chunk.length;
    if (total > max) break;
  }
  const all = Buffer.concat(chunks);
  return { bytes: all.subarray(0, max), more: all.length > max };
}

/** Text of a prefix of a file: a character cut at the end is dropped, not shown as garbage. */
function utf8Text(bytes: Buffer): string {
  return new TextDecoder('utf-8').decode(bytes).replace(/\uFFFD$/, '');
}

function escapeAttr(value: string): string {
  return value.replace(/[\r\n]+/g, ' ').replace(/"/g, "'").slice(0, 120);
}

/** Keeps a message's own text from closing the delimiters it is quoted in. */
function neutralize(text: string): string {
  return text.replace(/<\/(quoted_message|recent_messages|forwarded_messages|file)>/gi, '</ $1>');
}

function line(m: ContextMessage): string {
  const at = m.sent_at ? `[${m.sent_at.slice(0, 16).replace('T', ' ')}] ` : '';
  return `${at}${m.sender}: ${neutralize(m.text)}`;
}

/**
 * The context of a question as the model reads it: the recent conversation first (background),
 * then a forwarded bundle, then the quoted message, each between its own delimiters, within
 * `maxChars` (the oldest recent messages are left out first).
 */
export function renderAgentContext(context: AgentContext | null, maxChars: number): string | undefined {
  if (!context) return undefined;
  const blocks: string[] = [];
  const fixed: string[] = [];
  if (context.forwarded.length > 0) {
    fixed.push(`<forwarded_messages count="${context.forwarded.length}">\n${context.forwarded.map(line).join('\n')}\n</forwarded_messages>`);
  }
  if (context.quoted) {
    const q = context.quoted;
    fixed.push(`<quoted_message from="${escapeAttr(q.sender)}"${q.sent_at ? ` at="${q.sent_at}"` : ''}>\n${neutralize(q.text)}\n</quoted_message>`);
  }
  let fixedText = fixed.join('\n\n');
  if (fixedText.length > maxChars) fixedText = `${fixedText.slice(0, maxChars)}\n[truncated]`;
  if (context.recent.length > 0) {
    const budget = maxChars - fixedText.length;
    const kept: string[] = [];
    let used = 0;
    for (let i = context.recent.length - 1; i >= 0; i--) {
      const l = line(context.recent[i]);
      if (used + l.length + 1 > budget) break;
      kept.unshift(l);
      used += l.length + 1;
    }
    if (kept.length > 0) blocks.push(`<recent_messages scope="${context.recent_scope ?? 'chat'}" count="${kept.length}">\n${kept.join('\n')}\n</recent_messages>`);
  }
  if (fixedText) blocks.push(fixedText);
  const unavailable = context.unavailable.map((part) => `[The ${part === 'recent' ? 'recent conversation' : part === 'quoted' ? 'quoted message' : 'forwarded messages'} could not be fetched.]`);
  const all = [...blocks, ...unavailable].join('\n\n');
  return all || undefined;
}

/**
 * The conversation a run gives its runtime: the claimed history, with what came with each message.
 * The question's own images are shown (vision), its text files inlined, its other files described;
 * so are those of the message it quotes and of a forwarded bundle. Earlier messages' files are
 * named only. One statement reads the attachments, and only when some message has any.
 */
export async function buildRunHistory(
  db: DbOrTx,
  store: AttachmentStore,
  claimed: Pick<ClaimedTask, 'task' | 'history'>,
  context: AgentContext | null,
  limits: AgentInputLimits = DEFAULT_AGENT_INPUT_LIMITS,
): Promise<ChatTurn[]> {
  const triggerId = claimed.task.triggerMessageId;
  const withFiles = claimed.history.filter((t) => t.id && (t.attachments ?? 0) > 0).map((t) => t.id!);
  // Fetching the context may have given the question the files of the message it quotes or forwards.
  if (context && (context.quoted || context.forwarded.length > 0) && !withFiles.includes(triggerId)) withFiles.push(triggerId);
  const rows: AttachmentRow[] =
    withFiles.length === 0
      ? []
      : await db
          .select({
            id: attachment.id,
            chatMessageId: attachment.chatMessageId,
            source: attachment.source,
            position: attachment.position,
            kind: attachment.kind,
            fileName: attachment.fileName,
            contentType: attachment.contentType,
            sizeBytes: attachment.sizeBytes,
            state: attachment.state,
            failure: attachment.failure,
          })
          .from(attachment)
          .where(and(eq(attachment.workspaceId, claimed.task.workspaceId), inArray(attachment.chatMessageId, withFiles)))
          .orderBy(sql`${attachment.chatMessageId}, CASE ${attachment.source} WHEN 'quoted' THEN 0 WHEN 'forwarded' THEN 1 ELSE 2 END, ${attachment.position}`);
  const byMessage = new Map<string, AttachmentRow[]>();
  for (const row of rows) byMessage.set(row.chatMessageId!, [...(byMessage.get(row.chatMessageId!) ?? []), row]);

  const turns: ChatTurn[] = [];
  for (const turn of claimed.history) {
    const own = turn.id ? (byMessage.get(turn.id) ?? []) : [];
    const isTrigger = turn.id === triggerId;
    const files: RunFile[] = [];
    const images: RunImage[] = [];
    for (const row of own) {
      const file: RunFile = { kind: row.kind, name: row.fileName, contentType: row.contentType, sizeBytes: row.sizeBytes };
      if (row.source === 'quoted' || row.source === 'forwarded') file.name = `${row.source === 'quoted' ? 'quoted' : 'forwarded'}: ${row.fileName ?? row.kind}`;
      if (row.state !== 'stored') file.unavailable = unavailableReason(row);
      else if (isTrigger) {
        const ref = { workspaceId: claimed.task.workspaceId, attachmentId: row.id };
        const type = row.contentType ?? '';
        if (INLINE_IMAGE_TYPES.has(type) && (row.sizeBytes ?? 0) <= limits.imageMaxBytes && images.length < limits.maxImages) {
          const { bytes } = await readUpTo(store, db, ref, limits.imageMaxBytes);
          images.push({ name: row.fileName, contentType: type, dataBase64: bytes.toString('base64'), sizeBytes: bytes.length });
          file.shown = true;
        } else if (isReadableText(type) && limits.inlineFileMaxBytes > 0) {
          const { bytes, more } = await readUpTo(store, db, ref, limits.inlineFileMaxBytes);
          file.text = utf8Text(bytes);
          if (more) file.truncated = true;
        }
      }
      files.push(file);
    }
    turns.push({
      role: turn.role,
      content: turn.content,
      ...(files.length > 0 && { files }),
      ...(images.length > 0 && { images }),
      ...(isTrigger && context && { context: renderAgentContext(context, limits.contextMaxChars) }),
    });
  }
  return turns;
}
