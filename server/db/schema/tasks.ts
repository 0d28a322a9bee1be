import { sql } from 'drizzle-orm';
import { bigserial, check, foreignKey, index, integer, pgTable, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { agent } from './agents';
import { chatMessage, chatSession } from './chat';
import { taskStatuses } from '../../contract/chat';

// The API shares these value lists; the contract is their one home.
export { taskStatuses };

export type TaskStatus = (typeof taskStatuses)[number];

export const agentTask = pgTable(
  'agent_task',
  {
    id: uuid().primaryKey().defaultRandom(),
    // Global enqueue order; tasks of one session run strictly in this order.
    seq: bigserial({ mode: 'number' }).notNull().unique(),
    workspaceId: uuid().notNull(),
    agentId: uuid().notNull(),
    sessionId: uuid().notNull(),
    triggerMessageId: uuid()
      .notNull()
      .references(() => chatMessage.id, { onDelete: 'cascade' }),
    status: text({ enum: taskStatuses }).notNull().default('queued'),
    error: text(),
    attempts: integer().notNull().default(0),
    claimedBy: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp({ withTimezone: true }),
    // Set when claimed. Afterwards the runner renews its own row (task_runner), not each task's: a
    // running task is stale once both this and its runner's heartbeat are old.
    heartbeatAt: timestamp({ withTimezone: true }),
    // What went wrong, for logs and admins; `error` is what users see.
    errorDetail: text(),
    // Why a cancelled task ended: the asker pressed Stop, or recalled the question.
    cancelReason: text(),
    finishedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    foreignKey({ columns: [t.agentId, t.workspaceId], foreignColumns: [agent.id, agent.workspaceId] }).onDelete('cascade'),
    foreignKey({ columns: [t.sessionId, t.workspaceId], foreignColumns: [chatSession.id, chatSession.workspaceId] }).onDelete(
      'cascade',
    ),
    unique('agent_task_id_workspace_unique').on(t.id, t.workspaceId),
    // The indexes on running and unfinished tasks also say finished_at IS NULL, which only the queries
    // scanning for such tasks repeat. On status alone, statistics taken while few tasks ran made
    // them look empty, cheaper than the primary key, and a task's own update read every running one.
    // At most one running task per session: the schema backs up the in-order claim query.
    uniqueIndex('agent_task_one_running_per_session').on(t.sessionId).where(sql`${t.status} = 'running' AND ${t.finishedAt} IS NULL`),
    // A session's unfinished tasks: the claim asks whether one runs or an older one waits. Keyed on
    // finished_at so that only that probe matches it (see runnable() in services/tasks.ts).
    index('agent_task_unfinished_session_seq').on(t.sessionId, t.seq).where(sql`${t.finishedAt} IS NULL`),
    // Queued tasks per workspace in order: the fair-share claim visits each workspace's queue head.
    // The only index on queued tasks, so the planner cannot trade it for one without the workspace.
    index('agent_task_queued_workspace_seq').on(t.workspaceId, t.seq).where(sql`${t.status} = 'queued'`),
    // Running tasks per workspace, for the fair-share claim.
    index('agent_task_running_workspace').on(t.workspaceId).where(sql`${t.status} = 'running' AND ${t.finishedAt} IS NULL`),
    index().on(t.sessionId, t.seq),
    check('agent_task_status_valid', sql`${t.status} IN ('queued', 'running', 'completed', 'failed', 'cancelled')`),
    check('agent_task_cancel_reason_valid', sql`(${t.status} = 'cancelled') = (${t.cancelReason} IS NOT NULL) AND (${t.cancelReason} IS NULL OR ${t.cancelReason} IN ('stopped', 'recalled'))`),
    check('agent_task_finished_when_done', sql`(${t.status} IN ('queued', 'running')) = (${t.finishedAt} IS NULL)`),
    check('agent_task_failed_has_error', sql`${t.status} <> 'failed' OR ${t.error} IS NOT NULL`),
  ],
);

/**
 * One row per task runner (its worker id): renewed on every beat, one row however many runs it has
 * in flight. Running tasks of a runner whose row went stale belong to a dead worker and are
 * requeued; per-task renewals would lock every running row and hold back the completions.
 */
export const taskRunner = pgTable(
  'task_runner',
  {
    runnerId: text().primaryKey(),
    heartbeatAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('task_runner_id_len', sql`char_length(${t.runnerId}) BETWEEN 1 AND 200`)],
);
