import { and, asc, eq, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { AgentContext, AttachmentFailure, ContextMessage } from '../../contract/attachments';
import type { Db } from '../../db/client';
import { attachment, chatMessage } from '../../db/schema';
import { failAttachment, storeAttachmentBytes } from '../../attachments/ingest';
import type { AttachmentStore } from '../../attachments/store';
import { emitWorkspaceEvent } from '../../events';
import { sleep } from '../../async/abortable';
import { isRetryableLarkError, LarkApiError, LarkNetworkError, LarkResourceTooLargeError, type LarkHttpClient, type LarkMessageItem } from '../api';
import { decodeMessageContent, type InboundAttachmentRef } from '../protocol';

/** What the worker fetches for a question after its ACK, and how much of it. */
export type QuestionMediaLimits = {
  /** The largest image or file downloaded (ATTACHMENT_MAX_BYTES). */
  maxBytes: number;
  /** The recent conversation of a group or topic: at most this many messages, none older than `contextMinutes`. */
  contextMessages: number;
  contextMinutes: number;
};

/** Download attempts of one attachment before it is shown as failed (each run of the question tries again until then). */
export const MAX_DOWNLOAD_ATTEMPTS = 3;
/** A context call may take this long: context is a nicety, the answer must not wait on it for long. */
const CONTEXT_CALL_TIMEOUT_MS = 5_000;
/** One message of the context is cut to this many characters. */
const CONTEXT_MESSAGE_MAX_CHARS = 2_000;

// Lark's answers for a resource that is gone: message or file deleted, recalled, or never there.
const NOT_FOUND_CODES = new Set([230011, 231003, 234003]);
// The bot may not fetch it: a merged-forward child's resource, a chat the bot is not in.
const FORBIDDEN_CODES = new Set([234004, 234043, 230002, 230027]);
// Over Lark's own 100 MB.
const TOO_LARGE_CODES = new Set([234037]);

/** Why a download will never succeed, or null when it may on another try. */
export function permanentFailureOf(err: unknown): AttachmentFailure | null {
  if (err instanceof LarkResourceTooLargeError) return 'too_large';
  if (err instanceof LarkNetworkError || !(err instanceof LarkApiError) || isRetryableLarkError(err)) return null;
  if (TOO_LARGE_CODES.has(err.code)) return 'too_large';
  if (NOT_FOUND_CODES.has(err.code) || err.httpStatus === 404) return 'not_found';
  if (FORBIDDEN_CODES.has(err.code) || err.httpStatus === 403) return 'forbidden';
  // Any other refusal (4xx with a Lark code) repeats on every try.
  return 'forbidden';
}

type PendingRow = { id: string; larkMessageId: string | null; larkFileKey: string | null; larkResourceType: string | null; fileName: string | null; attempts: number };

/**
 * Downloads every attachment of a question still waiting (its own, its quoted message's, its
 * forwarded messages'), stores each durably and marks the ones that can never be downloaded with
 * their reason. A transient failure is retried twice here and by later runs of the question, then
 * shown as failed: a question is never left unanswered for a file.
 */
export async function downloadPendingAttachments(
  deps: { db: Db; store: AttachmentStore; client: LarkHttpClient; log: Logger; limits: QuestionMediaLimits; signal: AbortSignal },
  question: { workspaceId: string; sessionId: string; chatMessageId: string },
): Promise<number> {
  const pending: PendingRow[] = await deps.db
    .select({
      id: attachment.id,
      larkMessageId: attachment.larkMessageId,
      larkFileKey: attachment.larkFileKey,
      larkResourceType: attachment.larkResourceType,
      fileName: attachment.fileName,
      attempts: attachment.attempts,
    })
    .from(attachment)
    .where(and(eq(attachment.workspaceId, question.workspaceId), eq(attachment.chatMessageId, question.chatMessageId), eq(attachment.state, 'pending')))
    .orderBy(asc(attachment.source), asc(attachment.position));
  let stored = 0;
  for (const row of pending) {
    const ref = { workspaceId: question.workspaceId, attachmentId: row.id, sessionId: question.sessionId };
    if (!row.larkMessageId || !row.larkFileKey || (row.larkResourceType !== 'image' && row.larkResourceType !== 'file')) {
      await failAttachment(deps.db, { ...ref, failure: 'not_downloadable' });
      continue;
    }
    for (let attempt = row.attempts + 1; ; attempt++) {
      await deps.db.update(attachment).set({ attempts: attempt }).where(and(eq(attachment.workspaceId, question.workspaceId), eq(attachment.id, row.id)));
      try {
        const file = await deps.client.downloadMessageResource(row.larkMessageId, row.larkFileKey, row.larkResourceType, { maxBytes: deps.limits.maxBytes, signal: deps.signal });
        await storeAttachmentBytes(deps.db, deps.store, { ...ref, bytes: file.bytes, fileName: row.fileName ?? file.fileName });
        stored++;
        break;
      } catch (err) {
        if (deps.signal.aborted) throw err;
        const failure = permanentFailureOf(err);
        if (failure || attempt >= MAX_DOWNLOAD_ATTEMPTS) {
          deps.log.info({ err, attachmentId: row.id, failure: failure ?? 'download_failed' }, 'an attachment cannot be downloaded; the agent is told why');
          await failAttachment(deps.db, { ...ref, failure: failure ?? 'download_failed', sizeBytes: err instanceof LarkResourceTooLargeError ? err.sizeBytes : null });
          break;
        }
        deps.log.info({ err, attachmentId: row.id, attempt }, 'downloading an attachment failed; trying again');
        await sleep(500 * attempt, deps.signal);
      }
    }
  }
  return stored;
}

/** The question's Lark facts the context fetch needs (read by the task claim). */
export type QuestionOrigin = {
  workspaceId: string;
  sessionId: string;
  chatMessageId: string;
  installationId: string;
  appId: string;
  messageId: string;
  chatId: string;
  chatType: 'p2p' | 'group';
  threadId: string | null;
  parentId: string | null;
  messageType: string | null;
  createTimeMs: number | null;
  agentName: string;
};

/**
 * The message a question quotes. A reply inside a thread names its parent too, but that is the
 * thread's conversation (the recent messages of a topic), not a quote.
 */
function quotedIdOf(origin: Pick<QuestionOrigin, 'parentId' | 'threadId'>): string | null {
  return origin.parentId && !origin.threadId ? origin.parentId : null;
}

/** Whether a question has context to fetch: it quotes a message, forwards a bundle, or mentions the bot in a group or topic. */
export function wantsContext(origin: Pick<QuestionOrigin, 'chatType' | 'parentId' | 'threadId' | 'messageType'>, limits: QuestionMediaLimits): boolean {
  return Boolean(quotedIdOf(origin)) || origin.messageType === 'merge_forward' || (origin.chatType === 'group' && limits.contextMessages > 0 && limits.contextMinutes > 0);
}

type Speaker = LarkMessageItem['sender'];

/**
 * Fetches the context of a question once (the message it quotes, the messages it forwards, the
 * recent conversation of its group or topic), stores it with the question, with the quoted and
 * forwarded images and files as the question's attachments waiting for download, and returns it.
 * A question whose context is stored already gets the stored one (a retried run sees what the first
 * saw). Each part that fails is left out and named in `unavailable`.
 */
export async function fetchQuestionContext(
  deps: { db: Db; client: LarkHttpClient; log: Logger; limits: QuestionMediaLimits; signal: AbortSignal },
  origin: QuestionOrigin,
): Promise<AgentContext> {
  const [existing] = await deps.db
    .select({ context: chatMessage.agentContext })
    .from(chatMessage)
    .where(and(eq(chatMessage.workspaceId, origin.workspaceId), eq(chatMessage.id, origin.chatMessageId)));
  if (existing?.context) return existing.context;

  const context: AgentContext = { quoted: null, forwarded: [], recent: [], recent_scope: null, unavailable: [] };
  const files: Array<{ source: 'quoted' | 'forwarded'; messageId: string; ref: InboundAttachmentRef }> = [];
  const items: LarkMessageItem[] = [];
  const call = { timeoutMs: CONTEXT_CALL_TIMEOUT_MS, signal: deps.signal };
  const attempt = async <T>(part: AgentContext['unavailable'][number], work: () => Promise<T>): Promise<T | null> => {
    try {
      return await work();
    } catch (err) {
      if (deps.signal.aborted) throw err;
      deps.log.info({ err, part }, 'could not fetch part of the context; the agent runs without it');
      context.unavailable.push(part);
      return null;
    }
  };

  let quoted: LarkMessageItem | null = null;
  const quotedId = quotedIdOf(origin);
  if (quotedId) {
    const found = await attempt('quoted', () => deps.client.getMessage(quotedId, call));
    quoted = found?.find((m) => m.messageId === quotedId) ?? found?.[0] ?? null;
    if (found && !quoted) context.unavailable.push('quoted');
    if (quoted) items.push(quoted);
  }
  let forwarded: LarkMessageItem[] = [];
  if (origin.messageType === 'merge_forward') {
    const found = await attempt('forwarded', () => deps.client.getMessage(origin.messageId, call));
    forwarded = (found ?? []).filter((m) => m.upperMessageId === origin.messageId);
    items.push(...forwarded);
  }
  let recent: LarkMessageItem[] = [];
  if (origin.chatType === 'group' && deps.limits.contextMessages > 0 && deps.limits.contextMinutes > 0) {
    const found = await attempt('recent', () => recentMessages(deps, origin, call));
    if (found) {
      recent = found;
      context.recent_scope = origin.threadId ? 'thread' : 'chat';
      items.push(...recent);
    }
  }

  const names = await speakerNames(deps.db, origin, items);
  const toContext = (m: LarkMessageItem, into?: { source: 'quoted' | 'forwarded' }): ContextMessage => {
    const decoded = decodeMessageContent(m.msgType, m.content, new Set(m.mentions.map((x) => x.key)));
    let text = m.deleted ? '[recalled]' : (decoded?.text ?? '');
    for (const mention of m.mentions) if (mention.key) text = text.split(mention.key).join(`@${mention.name || 'someone'}`);
    if (into && decoded && !m.deleted) for (const ref of decoded.attachments) files.push({ source: into.source, messageId: m.messageId, ref });
    const media = decoded?.attachments.map((a) => `[${a.kind}${a.fileName ? `: ${a.fileName}` : ''}]`).join(' ') ?? '';
    const full = [text.trim(), media].filter(Boolean).join(' ') || `[${m.msgType}]`;
    return {
      sender: names(m.sender),
      text: Array.from(full).slice(0, CONTEXT_MESSAGE_MAX_CHARS).join(''),
      sent_at: m.createTime ? new Date(m.createTime).toISOString() : null,
    };
  };
  if (quoted) context.quoted = toContext(quoted, { source: 'quoted' });
  context.forwarded = forwarded.map((m) => toContext(m, { source: 'forwarded' }));
  context.recent = recent.map((m) => toContext(m));

  const storedHere = await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(chatMessage)
      .set({ agentContext: context })
      .where(and(eq(chatMessage.workspaceId, origin.workspaceId), eq(chatMessage.id, origin.chatMessageId), sql`${chatMessage.agentContext} IS NULL`))
      .returning({ id: chatMessage.id });
    // Another run stored it first: that one stands, with its files.
    if (!row) return false;
    if (files.length > 0) {
      const rows = files.map((f, i) => ({
        workspaceId: origin.workspaceId,
        chatMessageId: origin.chatMessageId,
        source: f.source,
        position: i,
        kind: f.ref.kind,
        fileName: f.ref.fileName?.slice(0, 255) || null,
        durationMs: f.ref.durationMs,
        larkMessageId: f.messageId,
        larkFileKey: f.ref.key,
        larkResourceType: f.ref.resourceType,
        state: f.ref.resourceType ? ('pending' as const) : ('failed' as const),
        failure: f.ref.resourceType ? null : ('not_downloadable' as const),
      }));
      await tx.insert(attachment).values(rows);
      await tx
        .update(chatMessage)
        .set({ attachmentCount: sql`${chatMessage.attachmentCount} + ${rows.length}` })
        .where(and(eq(chatMessage.workspaceId, origin.workspaceId), eq(chatMessage.id, origin.chatMessageId)));
    }
    await emitWorkspaceEvent(tx, origin.workspaceId, { type: 'chat.message.updated', session_id: origin.sessionId, message_id: origin.chatMessageId });
    return true;
  });
  if (storedHere) return context;
  const [stored] = await deps.db
    .select({ context: chatMessage.agentContext })
    .from(chatMessage)
    .where(and(eq(chatMessage.workspaceId, origin.workspaceId), eq(chatMessage.id, origin.chatMessageId)));
  return stored?.context ?? context;
}

/**
 * The messages before the question in its chat (or topic): at most `contextMessages`, none older
 * than `contextMinutes` before it, oldest first. Pages through Lark's history newest first.
 */
async function recentMessages(
  deps: { client: LarkHttpClient; limits: QuestionMediaLimits },
  origin: QuestionOrigin,
  call: { timeoutMs: number; signal: AbortSignal },
): Promise<LarkMessageItem[]> {
  const asked = origin.createTimeMs ?? Date.now();
  const oldest = asked - deps.limits.contextMinutes * 60_000;
  const wanted = deps.limits.contextMessages;
  const found: LarkMessageItem[] = [];
  let pageToken: string | undefined;
  // A few pages at most: the count and the age bound both stop it long before.
  for (let page = 0; page < 5; page++) {
    const res = await deps.client.listMessages(
      {
        containerType: origin.threadId ? 'thread' : 'chat',
        containerId: origin.threadId ?? origin.chatId,
        pageSize: Math.min(50, wanted + 1),
        pageToken,
        startTimeSeconds: Math.floor(oldest / 1000),
      },
      call,
    );
    for (const item of res.items) {
      if (item.messageId === origin.messageId || item.createTime === null) continue;
      if (item.createTime > asked) continue;
      if (item.createTime < oldest) return found.reverse();
      found.push(item);
      if (found.length >= wanted) return found.reverse();
    }
    if (!res.hasMore || !res.pageToken) break;
    pageToken = res.pageToken;
  }
  return found.reverse();
}

/**
 * Names for the speakers of fetched messages: the bot by its agent's name, people linked to the
 * workspace by their Lark or account name, others by the names their mentions carry, else a short
 * stable label.
 */
async function speakerNames(db: Db, origin: QuestionOrigin, items: LarkMessageItem[]): Promise<(s: Speaker) => string> {
  const openIds = [...new Set(items.filter((m) => m.sender.senderType !== 'app' && m.sender.id).map((m) => m.sender.id!))];
  const known = new Map<string, string>();
  for (const item of items) for (const mention of item.mentions) if (mention.id && mention.name) known.set(mention.id, mention.name);
  if (openIds.length > 0) {
    const res = await db.execute<{ open_id: string; name: string | null }>(sql`
      SELECT b.lark_open_id AS open_id, COALESCE(NULLIF(b.lark_name, ''), u.name) AS name
      FROM lark_user_binding b LEFT JOIN "user" u ON u.id = b.user_id
      WHERE b.installation_id = ${origin.installationId}::uuid AND b.workspace_id = ${origin.workspaceId}::uuid AND b.lark_open_id = ANY(${sql.param(openIds)}::text[])`);
    for (const row of res.rows) if (row.name) known.set(row.open_id, row.name);
  }
  return (s) => {
    if (s.senderType === 'app') return s.id === origin.appId ? origin.agentName : 'a bot';
    if (s.id && known.has(s.id)) return known.get(s.id)!;
    return s.id ? `Lark user …${s.id.slice(-4)}` : 'someone';
  };
}
