import { and, desc, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { agent, agentTask, chatMessage, chatSession } from '../db/schema';
import { notFound } from '../errors';
import { emitWorkspaceEvent, TASK_QUEUED_CHANNEL } from '../events';
import { inTransaction } from '../db/transaction';

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

/**
 * Claims the oldest runnable task. A task is runnable when no task of its session is running and no
 * older task of its session is still queued, so one session's tasks run strictly in order while
 * different sessions run in parallel. SKIP LOCKED lets several workers claim without blocking; the
 * partial unique index on running tasks backs up the ordering if two claims race.
 */
export async function claimNextTask(db: DbOrTx, workerId: string): Promise<AgentTask | null> {
  const result = await db.execute<{ id: string }>(sql`
    UPDATE agent_task SET status = 'running', started_at = now(), heartbeat_at = now(), attempts = attempts + 1, claimed_by = ${workerId}
    WHERE id = (
      SELECT t.id FROM agent_task t
      WHERE t.status = 'queued'
        AND NOT EXISTS (SELECT 1 FROM agent_task r WHERE r.session_id = t.session_id AND r.status = 'running')
        AND NOT EXISTS (SELECT 1 FROM agent_task q WHERE q.session_id = t.session_id AND q.status = 'queued' AND q.seq < t.seq)
      ORDER BY t.seq
      LIMIT 1
      FOR UPDATE SKIP LOCKED
    )
    RETURNING id`);
  const id = result.rows[0]?.id;
  if (!id) return null;
  const [task] = await db.select().from(agentTask).where(eq(agentTask.id, id));
  await emitWorkspaceEvent(db, task.workspaceId, { type: 'task.updated', session_id: task.sessionId, task_id: task.id, status: 'running' });
  return task;
}

/** Conversation history for a run: the session's messages up to and including the trigger. */
export async function loadTaskHistory(db: DbOrTx, task: AgentTask) {
  // Compared in SQL: timestamps carry microseconds that a JS Date would round away.
  const newestFirst = await db
    .select({ role: chatMessage.role, content: chatMessage.content })
    .from(chatMessage)
    .where(
      and(
        eq(chatMessage.workspaceId, task.workspaceId),
        eq(chatMessage.sessionId, task.sessionId),
        sql`${chatMessage.createdAt} <= (SELECT created_at FROM chat_message WHERE id = ${task.triggerMessageId})`,
      ),
    )
    .orderBy(desc(chatMessage.createdAt))
    .limit(HISTORY_LIMIT);
  return newestFirst.reverse();
}

/** The most recent turns a runtime sees; older ones are left out rather than overflowing the model. */
export const HISTORY_LIMIT = 200;

/**
 * Finishes a running task: the assistant message, the status change and the events commit together.
 * `afterComplete` lets later features (the Lark reply outbox) add their rows in the same transaction.
 */
export async function completeTask(
  db: DbOrTx,
  input: { task: AgentTask; reply: string; afterComplete?: (tx: DbOrTx, message: typeof chatMessage.$inferSelect | null) => Promise<void> },
): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    const updated = await tx
      .update(agentTask)
      .set({ status: 'completed', finishedAt: new Date(), error: null })
      .where(heldBy(input.task))
      .returning({ id: agentTask.id });
    if (updated.length === 0) return false;
    let message: typeof chatMessage.$inferSelect | null = null;
    if (input.reply.trim().length > 0) {
      [message] = await tx
        .insert(chatMessage)
        .values({ workspaceId: input.task.workspaceId, sessionId: input.task.sessionId, role: 'assistant', content: input.reply })
        .returning();
      await emitWorkspaceEvent(tx, input.task.workspaceId, {
        type: 'chat.message.created',
        session_id: input.task.sessionId,
        message_id: message.id,
      });
    }
    await tx.update(chatSession).set({ updatedAt: new Date() }).where(eq(chatSession.id, input.task.sessionId));
    await emitWorkspaceEvent(tx, input.task.workspaceId, {
      type: 'task.updated',
      session_id: input.task.sessionId,
      task_id: input.task.id,
      status: 'completed',
    });
    await input.afterComplete?.(tx, message);
    return true;
  });
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

/**
 * Requeues running tasks whose worker stopped heartbeating (it died or lost the database), so their
 * chats move on. Their old holder can no longer finish them: completion is fenced by the claim.
 */
export async function requeueStaleTasks(db: DbOrTx, staleAfterMs: number): Promise<number> {
  const res = await db.execute(sql`
    WITH stale AS (
      UPDATE agent_task SET status = 'queued', claimed_by = NULL, started_at = NULL, heartbeat_at = NULL
      WHERE status = 'running' AND COALESCE(heartbeat_at, started_at) < now() - make_interval(secs => ${staleAfterMs / 1000})
      RETURNING id
    )
    SELECT pg_notify(${TASK_QUEUED_CHANNEL}, id::text) FROM stale`);
  return res.rowCount ?? 0;
}

/**
 * Renews the heartbeat of the tasks this worker runs; returns the ids it still holds (a task
 * missing from the answer was requeued and may already run elsewhere: its run should stop).
 */
export async function heartbeatTasks(db: DbOrTx, input: { workerId: string; tasks: AgentTask[] }): Promise<Set<string>> {
  if (input.tasks.length === 0) return new Set();
  const res = await db.execute<{ id: string }>(sql`
    UPDATE agent_task t SET heartbeat_at = now()
    FROM unnest(${sql.param(input.tasks.map((x) => x.id))}::uuid[], ${sql.param(input.tasks.map((x) => x.attempts))}::int[]) AS h(id, attempts)
    WHERE t.id = h.id AND t.attempts = h.attempts AND t.status = 'running' AND t.claimed_by = ${input.workerId}
    RETURNING t.id`);
  return new Set(res.rows.map((r) => r.id));
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
