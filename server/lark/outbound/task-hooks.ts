import { eq, sql, type SQL } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { AgentContext } from '../../contract/attachments';
import type { Db, DbOrTx } from '../../db/client';
import type { AttachmentStore } from '../../attachments/store';
import { downloadPendingAttachments, fetchQuestionContext, wantsContext, type QuestionMediaLimits, type QuestionOrigin } from '../inbound/question-media';
import { agent } from '../../db/schema';
import { executePrepared } from '../../db/prepared';
import { taskReference, type AgentTask, type ClaimedTask } from '../../services/tasks';
import { LarkHttpClient, type FetchLike } from '../api';
import type { LarkIntegration } from '../integration';
import { resolveBotLocale } from './bot-locale';
import { enqueueOutboxMessage, OUTBOX_COLUMNS, outboxRowValues, type OutboxBody, type OutboxTarget, type RunTraces, type TypingRef } from './outbox';
import { replyTargetFor } from './reply-target';
import { LarkAnswerStream, streamLabels, type StreamTarget } from './stream-card';

/** Follows one run while it works: the answer as it grows, and what is left in Lark when it ends. */
export type RunObserver = {
  onText(textSoFar: string): void;
  /** Ends streaming (waits for the frame in flight) and returns what the final delivery must close or take off. */
  finish(): Promise<RunTraces>;
};

export type TaskHooks = {
  /** What a run needs to know besides its task, read by the claim statement: an expression over the claimed row `c`. */
  claimContext?: SQL;
  /**
   * Before the runtime is called: fetches what the question needs from its source (images and files
   * it came with, the message it quotes, the conversation around it) and returns its context.
   */
  prepareRun?(claimed: ClaimedTask, log: Logger, signal: AbortSignal): Promise<AgentContext | null>;
  /** Called when a run starts; null when nothing is to be followed. */
  startRun?(claimed: ClaimedTask, log: Logger): RunObserver | null;
  /**
   * Read before an answer is stored: what to write with it, as a data-modifying CTE body for the
   * statement that stores it (it may read `message`, the stored answer), or null.
   */
  answerWrite(db: DbOrTx, task: AgentTask, reply: string, traces?: RunTraces, context?: unknown): Promise<SQL | null>;
  /** Written with a stopped run's partial answer (a CTE body, run whatever the task's state): hands it to the pending stop or retraction. */
  stoppedWrite?(task: AgentTask, partial: string, traces: RunTraces): SQL;
  /** Writes that commit with a task's failure. */
  afterFail(tx: DbOrTx, task: AgentTask, traces?: RunTraces): Promise<void>;
};

/** What the claim statement reads for a run of a Lark session (see claimContext). */
type LarkRunContext = {
  installation_id: string;
  chat_id: string;
  message_id: string | null;
  thread_id: string | null;
  root_id: string | null;
  app_id: string;
  region: 'feishu' | 'lark';
  secret: string;
  lark_locale: string;
  thread_anchor: string | null;
  parent_id: string | null;
  message_type: string | null;
  chat_type: 'p2p' | 'group';
  /** The question's attachment count, and whether its context is stored already. */
  files: number;
  create_time: string | null;
};

/** The latest Lark message of a session, to reply under when an answer has no Lark question of its own. */
export const THREAD_ANCHOR = (session: SQL, workspace: SQL) => sql`
  SELECT x.lark_message_id FROM chat_message cm JOIN lark_inbound_message x ON x.chat_message_id = cm.id
  WHERE cm.session_id = ${session} AND cm.workspace_id = ${workspace} ORDER BY cm.created_at DESC LIMIT 1`;

const LARK_CLAIM_CONTEXT = sql`(
  SELECT json_build_object('installation_id', b.installation_id, 'chat_id', b.lark_chat_id, 'message_id', m.lark_message_id,
    'thread_id', m.lark_thread_id, 'root_id', m.lark_root_id, 'app_id', i.app_id, 'region', i.region, 'secret', i.app_secret_ciphertext,
    'lark_locale', w.lark_locale, 'parent_id', m.lark_parent_id, 'message_type', m.lark_message_type, 'chat_type', b.lark_chat_type,
    'files', q.attachment_count, 'create_time', q.created_at,
    -- A question typed in the web chat of a topic session is answered in the topic: under its latest Lark message.
    'thread_anchor', CASE WHEN m.lark_message_id IS NULL AND b.lark_thread_id <> '' THEN (${THREAD_ANCHOR(sql`c.session_id`, sql`c.workspace_id`)}) END)
  FROM lark_chat_session_binding b
  JOIN lark_installation i ON i.id = b.installation_id AND i.workspace_id = b.workspace_id AND i.status = 'active'
  JOIN workspace w ON w.id = b.workspace_id
  LEFT JOIN lark_inbound_message m ON m.chat_message_id = c.trigger_message_id AND m.workspace_id = c.workspace_id
  LEFT JOIN chat_message q ON q.id = c.trigger_message_id AND q.workspace_id = c.workspace_id
  WHERE b.chat_session_id = c.session_id AND b.workspace_id = c.workspace_id)`;

function larkContextOf(context: unknown): LarkRunContext | null {
  const c = context as Partial<LarkRunContext> | null;
  return c && typeof c.installation_id === 'string' && typeof c.chat_id === 'string' ? (c as LarkRunContext) : null;
}

/** Where an answer goes; `fromWeb`: its question was typed in the web chat (it has no Lark origin). */
type LarkTarget = { installationId: string; target: OutboxTarget; fromWeb: boolean };

/** What placing an answer needs to know of its session and question: the claim context has it, or one lookup reads it. */
type PlacementRow = Pick<LarkRunContext, 'installation_id' | 'chat_id' | 'message_id' | 'thread_id' | 'root_id' | 'thread_anchor'>;

/** Where an answer goes: under its Lark question, or, for a question typed in the web chat, in the topic or the chat. */
function targetOf(r: PlacementRow): LarkTarget {
  const origin = r.message_id ? { messageId: r.message_id, threadId: r.thread_id, rootId: r.root_id } : null;
  if (!origin && r.thread_anchor) return { installationId: r.installation_id, target: { replyToMessageId: r.thread_anchor, replyInThread: true }, fromWeb: true };
  return { installationId: r.installation_id, target: replyTargetFor(r.chat_id, origin), fromWeb: origin === null };
}

/** Where a task's answer goes in Lark (one lookup), or null when its session is not a Lark chat (or the bot is gone). */
async function larkTargetFor(db: DbOrTx, task: AgentTask): Promise<LarkTarget | null> {
  const res = await executePrepared<PlacementRow & { status: string }>(
    db,
    sql`SELECT b.installation_id, b.lark_chat_id AS chat_id, i.status, m.lark_message_id AS message_id, m.lark_thread_id AS thread_id, m.lark_root_id AS root_id,
          CASE WHEN m.lark_message_id IS NULL AND b.lark_thread_id <> '' THEN (${THREAD_ANCHOR(sql`b.chat_session_id`, sql`b.workspace_id`)}) END AS thread_anchor
        FROM lark_chat_session_binding b
        JOIN lark_installation i ON i.id = b.installation_id
        LEFT JOIN lark_inbound_message m ON m.chat_message_id = ${task.triggerMessageId}::uuid
        WHERE b.chat_session_id = ${task.sessionId}::uuid AND b.workspace_id = ${task.workspaceId}::uuid`,
  );
  const binding = res.rows[0];
  return binding && binding.status === 'active' ? targetOf(binding) : null;
}

/** How long a finishing run waits for its "Typing" reaction request, so the delivery knows what to take off. */
const TYPING_SETTLE_MS = 2_000;
/** A run still working after this long gets the typing reaction on its question. */
export const TYPING_AFTER_MS = 500;

export type LarkTaskHooksDeps = {
  db: DbOrTx;
  integration: LarkIntegration;
  fetch?: FetchLike;
  /** Counts card operations of streamed answers (benches, metrics). */
  onCardOperation?: (op: 'create' | 'send' | 'content') => void;
  /** Overrides the stream's frame interval (tests). */
  streamFlushMs?: number;
  /** Where the question's images and files are stored, and how much context is fetched. */
  media?: { store: AttachmentStore; limits: QuestionMediaLimits };
};

/**
 * The Lark side of an agent run: a "Typing" reaction on the question while the agent works, the
 * answer streaming into a card as it is written, and the final answer (or an error card) written
 * to the outbox with the task's completion, which closes the cards and takes the reaction off.
 */
export function larkTaskHooks(deps?: LarkTaskHooksDeps): TaskHooks {
  const enqueue = async (tx: DbOrTx, task: AgentTask, body: OutboxBody) => {
    const where = await larkTargetFor(tx, task);
    if (!where) return;
    const shown: OutboxBody = where.fromWeb && body.kind === 'agent_error' ? { ...body, afterWebQuestion: true } : body;
    await enqueueOutboxMessage(tx, { workspaceId: task.workspaceId, installationId: where.installationId, target: where.target, body: shown, taskId: task.id });
  };
  return {
    claimContext: LARK_CLAIM_CONTEXT,
    startRun: deps ? (claimed, log) => observeRun(deps, claimed, log) : undefined,
    prepareRun: deps?.media ? (claimed, log, signal) => prepareQuestion(deps, deps.media!, claimed, log, signal) : undefined,
    async answerWrite(db, task, reply, traces, context) {
      if (reply.trim().length === 0 && !traces?.stream && !traces?.typing) return null;
      const c = larkContextOf(context);
      const where = c ? targetOf(c) : await larkTargetFor(db, task);
      if (!where) return null;
      const body: OutboxBody = {
        kind: 'agent_reply',
        text: reply,
        ...(traces?.stream && { stream: traces.stream }),
        ...(traces?.typing && { typing: traces.typing }),
        ...(where.fromWeb && { afterWebQuestion: true }),
        ...(traces?.agentFiles !== undefined && { agentFiles: traces.agentFiles }),
      };
      const row = { workspaceId: task.workspaceId, installationId: where.installationId, target: where.target, body, taskId: task.id };
      // Only with the stored answer (or, for an empty one, a card or reaction to clear), and only while the bot is still connected.
      return sql`INSERT INTO ${OUTBOX_COLUMNS} SELECT * FROM (VALUES ${outboxRowValues(row)}) AS v
        WHERE (EXISTS (SELECT 1 FROM message) OR ${reply.trim().length === 0})
          AND EXISTS (SELECT 1 FROM lark_installation WHERE id = ${where.installationId} AND workspace_id = ${task.workspaceId} AND status = 'active')
        RETURNING id`;
    },
    stoppedWrite(task, partial, traces) {
      const extra = { text: partial, ...(traces.stream && { stream: traces.stream }), ...(traces.typing && { typing: traces.typing }) };
      return sql`UPDATE lark_outbox SET body = body || ${JSON.stringify(extra)}::jsonb, next_attempt_at = now()
        WHERE task_id = ${task.id}::uuid AND status = 'pending' AND kind IN ('agent_stopped', 'retract_answer')
        RETURNING id`;
    },
    async afterFail(tx, task, traces) {
      const [a] = await tx.select({ name: agent.name }).from(agent).where(eq(agent.id, task.agentId));
      await enqueue(tx, task, {
        kind: 'agent_error',
        agentName: a?.name ?? 'The agent',
        reference: taskReference(task.id),
        taskId: task.id,
        ...(traces?.stream && { stream: traces.stream }),
        ...(traces?.typing && { typing: traces.typing }),
      });
    },
  };
}

/** The bot's API client for a run; null (logged) when its credentials cannot be opened here. */
function clientFor(deps: LarkTaskHooksDeps, c: LarkRunContext, log: Logger, what: string): LarkHttpClient | null {
  if (!deps.integration.box) return null;
  try {
    return new LarkHttpClient({
      appId: c.app_id,
      appSecret: deps.integration.box.open(c.secret),
      region: c.region,
      hosts: deps.integration.hosts,
      fetch: deps.fetch,
      requestTimeoutMs: deps.integration.httpTimeoutMs,
      logger: log,
      installationId: c.installation_id,
    });
  } catch (err) {
    log.warn({ err }, `cannot open the bot credentials; ${what}`);
    return null;
  }
}

/**
 * Before a Lark question runs: its context (quoted message, forwarded bundle, recent group
 * conversation) is fetched and stored once, then its images and files (and those of the context)
 * are downloaded. Only questions that have any of these make a call or a statement here.
 */
async function prepareQuestion(
  deps: LarkTaskHooksDeps,
  media: NonNullable<LarkTaskHooksDeps['media']>,
  claimed: ClaimedTask,
  log: Logger,
  signal: AbortSignal,
): Promise<AgentContext | null> {
  const c = larkContextOf(claimed.context);
  if (!c || !c.message_id) return null;
  const origin: QuestionOrigin = {
    workspaceId: claimed.task.workspaceId,
    sessionId: claimed.task.sessionId,
    chatMessageId: claimed.task.triggerMessageId,
    installationId: c.installation_id,
    appId: c.app_id,
    messageId: c.message_id,
    chatId: c.chat_id,
    chatType: c.chat_type,
    threadId: c.thread_id,
    parentId: c.parent_id,
    messageType: c.message_type,
    createTimeMs: c.create_time ? Date.parse(c.create_time) : null,
    agentName: claimed.agent?.name ?? 'The agent',
  };
  const context = wantsContext(origin, media.limits);
  if (!context && !(c.files > 0)) return null;
  const client = clientFor(deps, c, log, 'the question runs without its files and context');
  if (!client) return null;
  const shared = { db: deps.db as Db, client, log, limits: media.limits, signal };
  const fetched = context ? await fetchQuestionContext(shared, origin) : null;
  // Files of the context are the question's too; a question with none and no context of files skips the read.
  if (c.files > 0 || (fetched && (fetched.quoted || fetched.forwarded.length > 0))) {
    await downloadPendingAttachments({ ...shared, store: media.store }, origin);
  }
  return fetched;
}

function observeRun(deps: LarkTaskHooksDeps, claimed: ClaimedTask, log: Logger): RunObserver | null {
  const c = larkContextOf(claimed.context);
  if (!c || !c.message_id) return null;
  const client = clientFor(deps, c, log, 'the answer is sent without streaming');
  if (!client) return null;
  const messageId = c.message_id;
  const locale = resolveBotLocale(c.lark_locale, c.region);
  // Best effort and never awaited by the run: a reaction that fails only costs the indicator. It is
  // put on only once the run has taken a moment: an answer that comes at once needs no indicator,
  // and a reaction that appears and vanishes in the same instant only flickers.
  let typingTimer: NodeJS.Timeout | null = null;
  let settleTyping: (ref: TypingRef | null) => void = () => {};
  const typing = new Promise<TypingRef | null>((resolve) => {
    settleTyping = resolve;
    typingTimer = setTimeout(() => {
      typingTimer = null;
      client
        .addReaction(messageId, 'Typing')
        .then((reactionId) => resolve({ messageId, reactionId }))
        .catch((err) => {
          log.info({ err }, 'could not add the typing reaction');
          resolve(null);
        });
    }, TYPING_AFTER_MS);
  });
  const target: StreamTarget = { replyToMessageId: messageId, replyInThread: Boolean(c.thread_id || c.root_id) };
  const stream = new LarkAnswerStream({
    db: deps.db,
    client,
    logger: log,
    workspaceId: claimed.task.workspaceId,
    installationId: c.installation_id,
    taskId: claimed.task.id,
    attempt: claimed.task.attempts,
    target,
    labels: streamLabels(locale),
    flushMs: deps.streamFlushMs,
    onCardOperation: deps.onCardOperation,
  });
  return {
    onText: (text) => stream.push(text),
    async finish() {
      if (typingTimer) {
        clearTimeout(typingTimer);
        typingTimer = null;
        settleTyping(null);
      }
      const [ref, reaction] = await Promise.all([
        stream.end(),
        Promise.race([typing, new Promise<null>((resolve) => setTimeout(() => resolve(null), TYPING_SETTLE_MS).unref())]),
      ]);
      return { stream: ref, typing: reaction };
    },
  };
}
