import type { SQL } from 'drizzle-orm';
import type pg from 'pg';
import type { DbOrTx } from '../server/db/client';
import { toQuery } from '../server/db/prepared';

// For tests of what the planner makes of a statement: the statement a service verb would send, its
// plan as actually run, and many tasks seeded at once so the plan meets a table of real size.

/** One node of an EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) plan, with its children. */
export type PlanNode = {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Loops': number;
  'Actual Rows': number;
  'Rows Removed by Filter'?: number;
  'Shared Hit Blocks': number;
  'Shared Read Blocks': number;
  Plans?: PlanNode[];
};

export function* planNodes(plan: PlanNode): Generator<PlanNode> {
  yield plan;
  for (const child of plan.Plans ?? []) yield* planNodes(child);
}

/** The statement `send` makes its db execute, captured instead of run (the verb sees no rows). */
export async function capturedStatement(send: (db: DbOrTx) => Promise<unknown>): Promise<{ sql: string; params: unknown[] }> {
  let captured: SQL | undefined;
  const capturing = { execute: async (query: SQL) => ((captured = query), { rows: [] }) } as unknown as DbOrTx;
  await send(capturing);
  if (!captured) throw new Error('no statement was sent');
  return toQuery(captured);
}

/** The statement's plan, run for real and rolled back. */
export async function analyzedPlan(pool: pg.Pool, statement: { sql: string; params: unknown[] }): Promise<PlanNode> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const res = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${statement.sql}`, statement.params);
    return (res.rows[0]['QUERY PLAN'] as [{ Plan: PlanNode }])[0].Plan;
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

/** `count` new chat sessions of the agent, each with one question and its task in `status`, as real ones of that status look. */
export async function seedTaskChats(
  pool: pg.Pool,
  owner: { workspaceId: string; agentId: string; userId: string },
  count: number,
  status: 'queued' | 'running' | 'completed',
): Promise<void> {
  await pool.query(
    `WITH s AS (
       INSERT INTO chat_session (workspace_id, agent_id, creator_user_id, title)
       SELECT $1, $2, $3, 'load ' || g FROM generate_series(1, $4) g RETURNING id
     ), m AS (
       INSERT INTO chat_message (workspace_id, session_id, role, content) SELECT $1, s.id, 'user', 'hi' FROM s RETURNING id, session_id
     )
     INSERT INTO agent_task (workspace_id, agent_id, session_id, trigger_message_id, status, attempts, claimed_by, started_at, heartbeat_at, finished_at)
     SELECT $1, $2, m.session_id, m.id, $5, CASE WHEN $5 = 'queued' THEN 0 ELSE 1 END,
            CASE WHEN $5 = 'running' THEN 'w-busy' END, CASE WHEN $5 = 'running' THEN now() END, CASE WHEN $5 = 'running' THEN now() END,
            CASE WHEN $5 = 'completed' THEN now() END
     FROM m`,
    [owner.workspaceId, owner.agentId, owner.userId, count, status],
  );
}
