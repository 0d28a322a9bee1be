import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { ChatTurn } from '../agent-runs/runtime/types';
import type { DbOrTx } from '../db/client';
import { agent, agentTask, chatSession } from '../db/schema';
import { notFound } from '../errors';
import { emitWorkspaceEvent, TASK_CANCELLED_CHANNEL, TASK_QUEUED_CHANNEL, workspaceEventNotice } from '../events';
import { inTransaction } from '../db/transaction';
import { executePrepared } from '../db/prepared';

export type AgentTask = typeof agentTask.$inferSelect;

/** What happened when a message asked an agent to run; offline and archived are normal outcomes, not errors. */
export type EnqueueOutcome =
  | { outcome: 'enqueued'; task: AgentTask }
  | { outcome: 'agent_offline'; agentName: string }
  | { outcome: 'agent_archived'; agentName: string };

/** Queues a run of the session's agent for `triggerMessageId`, in the caller's transaction. */
export async function enqueueAgentTask(
  tx: DbOrTx,
  input: { workspaceId: string; sessionId: string; triggerMessageId: string },
): Promise<EnqueueOutcome> {
  const [row] = await tx
    .select({ agent })
    .from(chatSession)
    .innerJoin(agent, and(eq(agent.id, chatSession.agentId), eq(agent.workspaceId, chatSession.workspaceId)))
    .where(and(eq(chatSession.workspaceId, input.workspaceId), eq(chatSession.id, input.sessionId)));
  if (!row) throw notFound('Chat session');
  if (row.agent.archivedAt) return { outcome: 'agent_archived', agentName: row.agent.name };
  if (!row.agent.runtimeKind) return { outcome: 'agent_offline', agentName: row.agent.name };
  const [task] = await tx
    .insert(agentTask)
    .values({
      workspaceId: input.workspaceId,
      agentId: row.agent.id,
      sessionId: input.sessionId,
      triggerMessageId: input.triggerMessageId,
    })
    .returning();
  await tx.execute(sql`SELECT pg_notify(${TASK_QUEUED_CHANNEL}, ${task.id})`);
  await emitWorkspaceEvent(tx, input.workspaceId, {
    type: 'task.updated',
    session_id: input.sessionId,
    task_id: task.id,
    status: 'queued',
  });
  return { outcome: 'enqueued', task };
}

/** Runs of one workspace beyond this many (across all workers) wait while another workspace has runnable tasks. */
export const DEFAULT_WORKSPACE_FAIR_SHARE = 200;

/**
 * The oldest runnable tasks among those `which` selects: no task of their session running and no
 * older one of it queued.
 */
function runnable(which: SQL, limit: number): SQL {
  // One probe of the session's unfinished tasks (a running one, or an older queued one), on an index
  // whose predicate (finished_at IS NULL) no other query implies. With probes on status = 'running'
  // or 'queued', the planner weighed every partial index on that status alike whenever its
  // statistics showed few such rows (as after a quiet hour), took one with no session in it, and
  // scanned every running task per candidate. OFFSET 0 keeps the probe per row, not an anti join.
  return sql`SELECT t.id, t.seq FROM agent_task t
    WHERE t.status = 'queued' AND ${which}
      AND NOT EXISTS (
        SELECT 1 FROM agent_task o
        WHERE o.session_id = t.session_id AND o.finished_at IS NULL AND (o.status = 'running' OR o.seq < t.seq)
        OFFSET 0)
    ORDER BY t.seq
    LIMIT ${limit}
    -- Locked where they are chosen, so a task another worker holds is skipped and the next one taken,
    -- and one claimed since this statement's snapshot is seen in its new version and left out.
    FOR UPDATE OF t SKIP LOCKED`;
}

/** A claimed task with what its run needs: the agent as it is now, and the conversation up to the trigger. */
export type ClaimedTask = { task: AgentTask; agent: typeof agent.$inferSelect | null; history: ChatTurn[]; context: unknown };

type RawClaim = {
  id: string;
  seq: string | number;
  workspace_id: string;
  agent_id: string;
  session_id: string;
  trigger_message_id: string;
  status: AgentTask['status'];
  error: string | null;
  attempts: number;
  claimed_by: string | null;
  created_at: string | Date;
  started_at: string | Date | null;
  heartbeat_at: string | Date | null;
  error_detail: string | null;
  cancel_reason: string | null;
  finished_at: string | Date | null;
  agent: {
    id: string;
    workspace_id: string;
    owner_user_id: string;
    name: string;
    avatar_color: string;
    runtime_kind: (typeof agent.$inferSelect)['runtimeKind'];
    runtime_config: (typeof agent.$inferSelect)['runtimeConfig'];
    archived_at: string | null;
    created_at: string;
    updated_at: string;
  } | null;
  history: ChatTurn[] | null;
  context: unknown;
};

const date = (v: string | Date | null) => (v === null ? null : new Date(v));

/**
 * Claims up to `limit` runnable tasks in one statement: each comes with its agent and its history,
 * and a "running" event per task. A task is runnable when no task of its session is running and no
 * older task of its session is still queued, so one session's tasks run strictly in order while
 * different sessions run in parallel (a batch never holds two tasks of one session). SKIP LOCKED
 * lets several workers claim without blocking; the partial unique index on running tasks backs up
 * the ordering if two claims race.
 */
export async function claimTasks(
  db: DbOrTx,
  workerId: string,
  limit: number,
  fairShare = DEFAULT_WORKSPACE_FAIR_SHARE,
  /** What else a run needs to know, read in the same statement: an expression over the claimed row `c` (see TaskHooks.claimContext). */
  context: SQL = sql`NULL::json`,
): Promise<ClaimedTask[]> {
  const result = await executePrepared<RawClaim>(db, sql`
    WITH RECURSIVE queued_workspaces AS (
      -- Each workspace with queued tasks, one index probe apiece rather than a pass over the queue.
      (SELECT workspace_id FROM agent_task WHERE status = 'queued' ORDER BY workspace_id LIMIT 1)
      UNION ALL
      SELECT (SELECT a.workspace_id FROM agent_task a WHERE a.status = 'queued' AND a.workspace_id > w.workspace_id ORDER BY a.workspace_id LIMIT 1)
      FROM queued_workspaces w WHERE w.workspace_id IS NOT NULL
    ), busy AS MATERIALIZED (
      SELECT workspace_id FROM agent_task WHERE status = 'running' AND finished_at IS NULL GROUP BY workspace_id HAVING count(*) >= ${fairShare}
    ), under_share AS (
      -- Each workspace under its share offers its oldest runnable tasks; the oldest of all are taken.
      SELECT c.id, c.seq FROM queued_workspaces w
      CROSS JOIN LATERAL (${runnable(sql`t.workspace_id = w.workspace_id`, limit)}) c
      WHERE w.workspace_id IS NOT NULL AND w.workspace_id NOT IN (SELECT workspace_id FROM busy)
      ORDER BY c.seq
      LIMIT ${limit}
    ), over_share AS (
      -- The same per-workspace index walk for the workspaces past their share: the queue's one index
      -- for waiting tasks has the workspace first, so the planner has no second one to mistake for it.
      SELECT c.id, c.seq FROM busy b
      CROSS JOIN LATERAL (${runnable(sql`t.workspace_id = b.workspace_id`, limit)}) c
      ORDER BY c.seq
      LIMIT ${limit}
    ),
    claimed AS (
      UPDATE agent_task SET status = 'running', started_at = now(), heartbeat_at = now(), attempts = attempts + 1, claimed_by = ${workerId}
      -- The second list is read only when the first falls short.
      WHERE id IN (SELECT id FROM (SELECT id FROM under_share UNION ALL SELECT id FROM over_share) AS c LIMIT ${limit})
      RETURNING *
    )
    SELECT c.*,
      (SELECT row_to_json(a) FROM agent a WHERE a.id = c.agent_id AND a.workspace_id = c.workspace_id) AS agent,
      (SELECT json_agg(json_build_object('role', h.role, 'content', h.content, 'id', h.id, 'attachments', h.attachment_count) ORDER BY h.created_at)
         FROM (SELECT m.role, m.content, m.created_at, m.id, m.attachment_count FROM chat_message m
               WHERE m.workspace_id = c.workspace_id AND m.session_id = c.session_id AND m.recalled_at IS NULL
                 AND m.created_at <= (SELECT created_at FROM chat_message WHERE id = c.trigger_message_id)
               ORDER BY m.created_at DESC LIMIT ${HISTORY_LIMIT}) h) AS history,
      ${workspaceEventNotice(sql`c.workspace_id`, sql`json_build_object('type', 'task.updated', 'session_id', c.session_id, 'task_id', c.id, 'status', 'running')`, sql`c.session_id`)} AS notified,
      ${context} AS context
    FROM claimed c
    ORDER BY c.seq`);
  return result.rows.map((r) => ({
    task: {
      id: r.id,
      seq: Number(r.seq),
      workspaceId: r.workspace_id,
      agentId: r.agent_id,
      sessionId: r.session_id,
      triggerMessageId: r.trigger_message_id,
      status: r.status,
      error: r.error,
      attempts: r.attempts,
      claimedBy: r.claimed_by,
      createdAt: new Date(r.created_at),
      startedAt: date(r.started_at),
      heartbeatAt: date(r.heartbeat_at),
      errorDetail: r.error_detail,
      cancelReason: r.cancel_reason,
      finishedAt: date(r.finished_at),
    },
    agent: r.agent && {
      id: r.agent.id,
      workspaceId: r.agent.workspace_id,
      ownerUserId: r.agent.owner_user_id,
      name: r.agent.name,
      avatarColor: r.agent.avatar_color,
      runtimeKind: r.agent.runtime_kind,
      runtimeConfig: r.agent.runtime_config,
      archivedAt: date(r.agent.archived_at),
      createdAt: new Date(r.agent.created_at),
      updatedAt: new Date(r.agent.updated_at),
    },
    history: r.history ?? [],
    context: r.context ?? null,
  }));
}

/** Claims the oldest runnable task (see claimTasks). */
export async function claimNextTask(db: DbOrTx, workerId: string): Promise<AgentTask | null> {
  const [claimed] = await claimTasks(db, workerId, 1);
  return claimed?.task ?? null;
}

/** The most recent turns a runtime sees; older ones are left out rather than overflowing the model. */
export const HISTORY_LIMIT = 200;

/**
 * Finishes a running task in one statement: the assistant message, the status change, the
 * session's place in the list and the events commit together, and nothing is written unless the
 * task is still held by this claim. `alsoWrite` adds a data-modifying CTE body to the same
 * statement (the Lark reply outbox); it may read `message` (the stored answer's id, none for an
 * empty answer). Returns false when the task was taken away.
 */
export async function completeTask(
  db: DbOrTx,
  input: { task: AgentTask; reply: string; alsoWrite?: SQL | null; /** The agent's files, stored for this attempt: they become the answer's. */ attachmentIds?: string[] },
): Promise<boolean> {
  const { task } = input;
  const attachmentIds = input.attachmentIds ?? [];
  const hasReply = input.reply.trim().length > 0 || attachmentIds.length > 0;
  const ws = sql`${task.workspaceId}::uuid`;
  const session = sql`${task.sessionId}::uuid`;
  const res = await executePrepared(db, sql`
    WITH done AS (
      UPDATE agent_task SET status = 'completed', finished_at = now(), error = NULL
      WHERE id = ${task.id} AND status = 'running' AND attempts = ${task.attempts}
      RETURNING id
    ), message AS (
      INSERT INTO chat_message (workspace_id, session_id, role, content, attachment_count)
      SELECT ${ws}, ${session}, 'assistant', ${input.reply}, ${attachmentIds.length} FROM done WHERE ${hasReply}
      RETURNING id
    ),${
      attachmentIds.length > 0
        ? sql` files AS (
      UPDATE attachment SET chat_message_id = (SELECT id FROM message)
      WHERE workspace_id = ${ws} AND task_id = ${task.id}::uuid AND id = ANY(${sql.param(attachmentIds)}::uuid[]) AND chat_message_id IS NULL AND EXISTS (SELECT 1 FROM message)
      RETURNING 1
    ),`
        : sql``
    } touched AS (
      UPDATE chat_session SET updated_at = now() WHERE id = ${session} AND workspace_id = ${ws} AND EXISTS (SELECT 1 FROM done)
      RETURNING id
    )${input.alsoWrite ? sql`, also AS (${input.alsoWrite})` : sql``}
    SELECT
      (SELECT ${workspaceEventNotice(ws, sql`json_build_object('type', 'chat.message.created', 'session_id', ${session}, 'message_id', m.id)`, session)} FROM message m) AS message_notified,
      ${workspaceEventNotice(ws, sql`json_build_object('type', 'task.updated', 'session_id', ${session}, 'task_id', ${task.id}::uuid, 'status', 'completed')`, session)} AS task_notified
    FROM done`);
  return res.rows.length > 0;
}

export async function failTask(
  db: DbOrTx,
  input: { task: AgentTask; error: string; detail?: string; afterFail?: (tx: DbOrTx) => Promise<void> },
): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    const updated = await tx
      .update(agentTask)
      .set({
        status: 'failed',
        finishedAt: new Date(),
        error: input.error.slice(0, 2000) || 'The agent run failed',
        errorDetail: input.detail?.slice(0, 2000) ?? null,
      })
      .where(heldBy(input.task))
      .returning({ id: agentTask.id });
    if (updated.length === 0) return false;
    await emitWorkspaceEvent(tx, input.task.workspaceId, {
      type: 'task.updated',
      session_id: input.task.sessionId,
      task_id: input.task.id,
      status: 'failed',
    });
    await input.afterFail?.(tx);
    return true;
  });
}

/** A running task put back in the queue, unclaimed (the sweep and a runner's beat). */
const BACK_TO_QUEUE = sql`status = 'queued', claimed_by = NULL, started_at = NULL, heartbeat_at = NULL`;

/** How long the row of a runner that stopped heartbeating is kept. */
export const RUNNER_ROW_KEPT_MS = 3_600_000;

/**
 * Requeues running tasks whose worker stopped heartbeating (it died or lost the database), so their
 * chats move on: neither the task's claim nor its runner's row (task_runner) was renewed within
 * `staleAfterMs`. Their old holder can no longer finish them: completion is fenced by the claim.
 */
export async function requeueStaleTasks(db: DbOrTx, staleAfterMs: number): Promise<number> {
  const res = await db.execute(sql`
    WITH forgotten AS (
      -- A row this old says no more than no row: a runner of a process long gone (worker ids
      -- change with every process) is dropped, so the table does not grow with every restart.
      DELETE FROM task_runner WHERE heartbeat_at < now() - make_interval(secs => ${Math.max(RUNNER_ROW_KEPT_MS, staleAfterMs) / 1000})
    ), stale AS (
      UPDATE agent_task t SET ${BACK_TO_QUEUE}
      WHERE t.status = 'running' AND t.finished_at IS NULL AND COALESCE(t.heartbeat_at, t.started_at) < now() - make_interval(secs => ${staleAfterMs / 1000})
        AND NOT EXISTS (
          SELECT 1 FROM task_runner r
          WHERE r.runner_id = t.claimed_by AND r.heartbeat_at >= now() - make_interval(secs => ${staleAfterMs / 1000}))
      RETURNING t.id
    )
    SELECT pg_notify(${TASK_QUEUED_CHANNEL}, id::text) FROM stale`);
  return res.rowCount ?? 0;
}

/**
 * One beat of a runner, in one statement: renews its row in task_runner (which keeps all its running
 * tasks alive), requeues its own running tasks it no longer runs (a run that ended without storing
 * its outcome, or a claim whose answer was lost; only those claimed more than `staleAfterMs` ago, so
 * a claim still on its way is never taken), and reports which of `tasks` it still holds (a task
 * missing from them was requeued and may already run elsewhere: its run should stop) and which were
 * cancelled (their run stops too, but hands over what it wrote). The running tasks themselves are
 * only read: a beat never waits for, nor holds back, a run storing its answer.
 */
export async function heartbeatTasks(
  db: DbOrTx,
  input: { workerId: string; tasks: AgentTask[]; staleAfterMs: number },
): Promise<{ held: Set<string>; cancelled: Set<string> }> {
  const ids = input.tasks.map((x) => x.id);
  // Data-modifying CTEs run whether or not the result reads them; the beat's result is the tasks.
  const res = await db.execute<{ id: string | null; held: boolean }>(sql`
    WITH beat AS (
      INSERT INTO task_runner (runner_id, heartbeat_at) VALUES (${input.workerId}, now())
      ON CONFLICT (runner_id) DO UPDATE SET heartbeat_at = now()
    ), orphaned AS (
      UPDATE agent_task t SET ${BACK_TO_QUEUE}
      WHERE t.status = 'running' AND t.finished_at IS NULL AND t.claimed_by = ${input.workerId} AND t.id <> ALL(${sql.param(ids)}::uuid[])
        AND t.started_at < now() - make_interval(secs => ${input.staleAfterMs / 1000})
      RETURNING t.id
    ), h AS (
      SELECT * FROM unnest(${sql.param(ids)}::uuid[], ${sql.param(input.tasks.map((x) => x.attempts))}::int[]) AS h(id, attempts)
    )
    SELECT t.id, t.status = 'running' AND t.claimed_by = ${input.workerId} AS held
    FROM agent_task t JOIN h ON t.id = h.id AND t.attempts = h.attempts
    WHERE t.status IN ('running', 'cancelled')
    UNION ALL
    SELECT NULL, pg_notify(${TASK_QUEUED_CHANNEL}, o.id::text) IS NULL FROM orphaned o`);
  const rows = res.rows.filter((r): r is { id: string; held: boolean } => r.id !== null);
  return {
    held: new Set(rows.filter((r) => r.held).map((r) => r.id)),
    cancelled: new Set(rows.filter((r) => !r.held).map((r) => r.id)),
  };
}

export type CancelReason = 'stopped' | 'recalled';

/**
 * Cancels a task that is queued or running (the asker pressed Stop, or recalled the question) and
 * tells the worker running it, which stops the run at once. Returns the status it had, or null when
 * it had already ended (then nothing changes).
 */
export async function cancelTask(
  tx: DbOrTx,
  input: { workspaceId: string; taskId: string; reason: CancelReason },
): Promise<{ previousStatus: 'queued' | 'running'; sessionId: string; attempts: number } | null> {
  const res = await tx.execute<{ previous_status: 'queued' | 'running'; session_id: string; attempts: number }>(sql`
    WITH before AS (
      SELECT id, status FROM agent_task
      WHERE id = ${input.taskId}::uuid AND workspace_id = ${input.workspaceId}::uuid AND status IN ('queued', 'running')
      FOR UPDATE
    ), cancelled AS (
      UPDATE agent_task t SET status = 'cancelled', cancel_reason = ${input.reason}, finished_at = now(), error = NULL
      FROM before b WHERE t.id = b.id
      RETURNING t.id, t.session_id, t.attempts, b.status AS previous_status
    )
    SELECT c.previous_status, c.session_id, c.attempts,
      pg_notify(${TASK_CANCELLED_CHANNEL}, c.id::text) AS cancel_notified,
      ${workspaceEventNotice(sql`${input.workspaceId}::uuid`, sql`json_build_object('type', 'task.updated', 'session_id', c.session_id, 'task_id', c.id, 'status', 'cancelled')`, sql`c.session_id`)} AS notified
    FROM cancelled c`);
  const row = res.rows[0];
  return row ? { previousStatus: row.previous_status, sessionId: row.session_id, attempts: row.attempts } : null;
}

/**
 * Stores what a run had written when its asker stopped it, as an answer marked stopped, with the
 * writes that go with it (`alsoWrite`, a CTE body that may read `message`). One statement; nothing
 * happens unless the task was stopped, and only once.
 */
export async function storeStoppedAnswer(db: DbOrTx, input: { task: AgentTask; partial: string; alsoWrite?: SQL | null }): Promise<boolean> {
  const { task } = input;
  const ws = sql`${task.workspaceId}::uuid`;
  const session = sql`${task.sessionId}::uuid`;
  const hasText = input.partial.trim().length > 0;
  const res = await db.execute(sql`
    WITH stopped AS (
      -- Locked, so two stores of one stopped run cannot both see no answer yet.
      SELECT id FROM agent_task WHERE id = ${task.id}::uuid AND status = 'cancelled' AND cancel_reason = 'stopped' AND attempts = ${task.attempts}
        AND NOT EXISTS (SELECT 1 FROM chat_message m WHERE m.workspace_id = ${ws} AND m.session_id = ${session} AND m.end_reason = 'stopped' AND m.created_at >= agent_task.started_at)
      FOR UPDATE
    ), message AS (
      INSERT INTO chat_message (workspace_id, session_id, role, content, end_reason)
      SELECT ${ws}, ${session}, 'assistant', ${input.partial}, 'stopped' FROM stopped WHERE ${hasText}
      RETURNING id
    )${input.alsoWrite ? sql`, also AS (${input.alsoWrite})` : sql``}
    SELECT (SELECT ${workspaceEventNotice(ws, sql`json_build_object('type', 'chat.message.created', 'session_id', ${session}, 'message_id', m.id)`, session)} FROM message m) AS notified
    FROM stopped`);
  return res.rows.length > 0;
}

/** The short id users quote to an admin for a failed run; the logs carry the task id it starts. */
export function taskReference(taskId: string): string {
  return taskId.slice(0, 8);
}

/** The claim a task was run under: a requeued and re-claimed task has more attempts. */
function heldBy(task: AgentTask) {
  return and(eq(agentTask.id, task.id), eq(agentTask.status, 'running'), eq(agentTask.attempts, task.attempts));
}

/** Puts a task this worker could not finish (it is shutting down) back in the queue for another worker. */
export async function releaseTask(db: DbOrTx, task: AgentTask): Promise<void> {
  await db
    .update(agentTask)
    .set({ status: 'queued', claimedBy: null, startedAt: null, heartbeatAt: null })
    .where(heldBy(task));
  await db.execute(sql`SELECT pg_notify(${TASK_QUEUED_CHANNEL}, ${task.id})`);
}
