import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { sleep } from '../../async/abortable';
import type { Db } from '../../db/client';
import { LarkApiError, LarkHttpClient, LarkRateLimitError, type FetchLike, type LarkChatInfo, type LarkRegion } from '../api';
import type { LarkIntegration } from '../integration';
import { isGroupTitle, larkSessionTitle, topicFromTitle } from './session-titles';

export type ChatNameOptions = {
  /** How often an idle fetcher looks for chats to name. */
  pollMs: number;
  /** Chats claimed per pass. */
  batch: number;
  /** The least time between two lookups of this worker: a bound on the rate it adds to Lark's. */
  minGapMs: number;
  /** A name older than this is looked up again (chats get renamed). */
  staleMs: number;
  /** A lookup that failed for a passing reason is tried again after this long. */
  retryMs: number;
  /** A claimed chat whose lookup never finished (the worker died) is due again after this long. */
  holdMs: number;
};

export const CHAT_NAME_DEFAULTS: ChatNameOptions = {
  pollMs: 15_000,
  batch: 20,
  minGapMs: 250,
  staleMs: 12 * 60 * 60 * 1000,
  retryMs: 5 * 60 * 1000,
  holdMs: 2 * 60 * 1000,
};

/** lark_chat.name's CHECK. */
const NAME_CHARS = 200;

export type ChatNameDeps = { db: Db; integration: LarkIntegration; logger: Logger; fetch?: FetchLike; options?: Partial<ChatNameOptions> };

type DueChat = {
  installation_id: string;
  workspace_id: string;
  lark_chat_id: string;
  app_id: string;
  app_secret_ciphertext: string;
  region: LarkRegion;
};

const secs = (ms: number) => ms / 1000;

/**
 * Remembers the group chats that have sessions but no lark_chat row (sessions from before chats
 * were recorded), so they get their names too. Once per start: the dispatcher records new ones.
 */
export async function recordChatsOfGroupSessions(db: Db): Promise<number> {
  const res = await db.execute(sql`
    INSERT INTO lark_chat (installation_id, workspace_id, lark_chat_id)
    SELECT DISTINCT b.installation_id, b.workspace_id, b.lark_chat_id FROM lark_chat_session_binding b
    WHERE b.lark_chat_type = 'group' AND b.closed_at IS NULL
    ON CONFLICT (installation_id, lark_chat_id) DO NOTHING`);
  return res.rowCount ?? 0;
}

/**
 * Claims chats whose name is missing or stale, of active installations, for one pass. The claim
 * moves `fetched_at` so the chat is due again only after `holdMs`: another worker skips it, and a
 * worker that dies mid-pass leaves it to be claimed again soon.
 */
async function claimDueChats(db: Db, o: ChatNameOptions): Promise<DueChat[]> {
  const res = await db.execute<DueChat>(sql`
    WITH due AS (
      SELECT c.installation_id, c.lark_chat_id FROM lark_chat c
      JOIN lark_installation i ON i.id = c.installation_id AND i.workspace_id = c.workspace_id AND i.status = 'active'
      WHERE c.bot_present AND (c.fetched_at IS NULL OR c.fetched_at < now() - make_interval(secs => ${secs(o.staleMs)}))
      ORDER BY c.fetched_at NULLS FIRST
      LIMIT ${o.batch}
      FOR UPDATE OF c SKIP LOCKED
    )
    UPDATE lark_chat c SET fetched_at = now() - make_interval(secs => ${secs(o.staleMs)}) + make_interval(secs => ${secs(o.holdMs)})
    FROM due, lark_installation i
    WHERE c.installation_id = due.installation_id AND c.lark_chat_id = due.lark_chat_id AND i.id = c.installation_id
    RETURNING c.installation_id, c.workspace_id, c.lark_chat_id, i.app_id, i.app_secret_ciphertext, i.region`);
  return res.rows;
}

/** Makes a claimed chat due again after `afterMs`. */
async function retryLater(db: Db, chat: DueChat, afterMs: number, o: ChatNameOptions): Promise<void> {
  await db.execute(sql`
    UPDATE lark_chat SET fetched_at = now() - make_interval(secs => ${secs(o.staleMs)}) + make_interval(secs => ${secs(afterMs)})
    WHERE installation_id = ${chat.installation_id} AND lark_chat_id = ${chat.lark_chat_id}`);
}

/**
 * Stores what Lark said about a chat and renames the chat's group and topic sessions after it, in
 * one transaction. The row lock orders this with a session being created in the same chat, which
 * reads the name under the same lock.
 */
export async function applyChatInfo(db: Db, chat: { installationId: string; workspaceId: string; chatId: string }, info: LarkChatInfo): Promise<number> {
  return db.transaction(async (tx) => {
    const prev = await tx.execute<{ name: string | null }>(sql`
      SELECT name FROM lark_chat WHERE installation_id = ${chat.installationId} AND lark_chat_id = ${chat.chatId} FOR UPDATE`);
    if (prev.rows.length === 0) return 0;
    const oldName = prev.rows[0].name;
    const name = info.name ? Array.from(info.name).slice(0, NAME_CHARS).join('') : oldName;
    await tx.execute(sql`
      UPDATE lark_chat SET name = ${name}::text, chat_mode = COALESCE(${info.chatMode}::text, chat_mode), fetched_at = now(),
        updated_at = CASE WHEN name IS DISTINCT FROM ${name}::text THEN now() ELSE updated_at END
      WHERE installation_id = ${chat.installationId} AND lark_chat_id = ${chat.chatId}`);
    if (!name) return 0;
    const sessions = await tx.execute<{ id: string; thread_id: string; title: string | null }>(sql`
      SELECT s.id, b.lark_thread_id AS thread_id, s.title FROM lark_chat_session_binding b
      JOIN chat_session s ON s.id = b.chat_session_id AND s.workspace_id = b.workspace_id
      WHERE b.installation_id = ${chat.installationId} AND b.lark_chat_id = ${chat.chatId} AND b.lark_chat_type = 'group'`);
    let renamed = 0;
    for (const s of sessions.rows) {
      const current = s.title ?? '';
      let title: string | null = null;
      if (s.thread_id === '') {
        if (isGroupTitle(current, oldName)) title = larkSessionTitle({ chatType: 'group', topic: null, chatName: name, senderName: null, agentName: '' });
      } else {
        // Only titles built here are rebuilt; the topic part is kept as it was.
        const topic = topicFromTitle(current, oldName) ?? topicFromTitle(current, name);
        if (topic !== null) title = larkSessionTitle({ chatType: 'group', topic, chatName: name, senderName: null, agentName: '' });
      }
      if (title === null || title === current) continue;
      const res = await tx.execute(sql`UPDATE chat_session SET title = ${title} WHERE id = ${s.id} AND workspace_id = ${chat.workspaceId}`);
      renamed += res.rowCount ?? 0;
    }
    return renamed;
  });
}

export type ChatNamePass = { claimed: number; named: number; failed: number; rateLimitedMs: number | null };

/** One pass: claims due chats, looks their names up one at a time at most every `minGapMs`, stores them. */
export async function refreshChatNames(deps: ChatNameDeps, signal: AbortSignal): Promise<ChatNamePass> {
  const o = { ...CHAT_NAME_DEFAULTS, ...deps.options };
  const due = await claimDueChats(deps.db, o);
  const pass: ChatNamePass = { claimed: due.length, named: 0, failed: 0, rateLimitedMs: null };
  const clients = new Map<string, LarkHttpClient>();
  for (const [index, chat] of due.entries()) {
    if (signal.aborted) break;
    if (index > 0) await sleep(o.minGapMs, signal);
    let client = clients.get(chat.installation_id);
    if (!client) {
      client = new LarkHttpClient({
        appId: chat.app_id,
        appSecret: deps.integration.box!.open(chat.app_secret_ciphertext),
        region: chat.region,
        hosts: deps.integration.hosts,
        fetch: deps.fetch,
        requestTimeoutMs: deps.integration.httpTimeoutMs,
        logger: deps.logger,
        installationId: chat.installation_id,
      });
      clients.set(chat.installation_id, client);
    }
    try {
      const info = await client.getChat(chat.lark_chat_id, { signal });
      await applyChatInfo(deps.db, { installationId: chat.installation_id, workspaceId: chat.workspace_id, chatId: chat.lark_chat_id }, info);
      pass.named += 1;
    } catch (err) {
      pass.failed += 1;
      if (err instanceof LarkRateLimitError) {
        // The rest of the batch waits with this one; the loop pauses as long as Lark asked.
        pass.rateLimitedMs = err.retryAfterMs;
        for (const rest of due.slice(index)) await retryLater(deps.db, rest, err.retryAfterMs, o);
        break;
      }
      // A refusal (no permission, chat gone) will not change soon: it waits like a fresh name.
      const refused = err instanceof LarkApiError && !err.retryable;
      deps.logger.warn({ err, installationId: chat.installation_id, larkChatId: chat.lark_chat_id }, 'looking up a Lark chat name failed');
      await retryLater(deps.db, chat, refused ? o.staleMs : o.retryMs, o).catch((e) => deps.logger.warn({ err: e }, 'could not reschedule a chat name lookup'));
    }
  }
  return pass;
}

/**
 * Names group chats off the ACK path: the dispatcher records each new group in lark_chat without a
 * name, and this loop looks names up (bounded in rate) and retitles the chat's sessions. It keeps
 * going through database and Lark outages, trying again on its next pass.
 */
export async function runChatNameFetcher(deps: ChatNameDeps, signal: AbortSignal): Promise<void> {
  const o = { ...CHAT_NAME_DEFAULTS, ...deps.options };
  let recorded = false;
  while (!signal.aborted) {
    let wait = o.pollMs;
    try {
      if (!recorded) {
        await recordChatsOfGroupSessions(deps.db);
        recorded = true;
      }
      const pass = await refreshChatNames(deps, signal);
      if (pass.rateLimitedMs !== null) wait = Math.max(pass.rateLimitedMs, o.minGapMs);
      // A full batch means more are due: go on after the usual gap instead of a whole poll.
      else if (pass.claimed >= o.batch) wait = o.minGapMs;
    } catch (err) {
      deps.logger.warn({ err }, 'chat name pass failed; trying again later');
    }
    await sleep(wait, signal);
  }
}
