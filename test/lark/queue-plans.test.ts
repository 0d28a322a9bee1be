import type { SQL } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { DbOrTx } from '../../server/db/client';
import { toQuery } from '../../server/db/prepared';
import { completeTask, type AgentTask } from '../../server/services/tasks';
import { createTestDatabase, type TestDatabase } from '../db';
import { seedAgent, seedUser, seedWorkspace } from '../seed';

// A row's own update must read that row, whatever the planner's statistics say about how many
// tasks run or outbox rows wait. Statistics taken while few did made each partial index on those
// states look empty and cheaper than the primary key: a task's completion then read every running
// task, and a part's bookkeeping every pending outbox row.

type PlanNode = { 'Node Type': string; 'Relation Name'?: string; 'Actual Rows': number; 'Actual Loops': number; 'Rows Removed by Filter'?: number; Plans?: PlanNode[] };

function* nodes(plan: PlanNode): Generator<PlanNode> {
  yield plan;
  for (const child of plan.Plans ?? []) yield* nodes(child);
}

/** Rows of `table` the statement read, kept or filtered out, run for real and rolled back. */
async function rowsRead(text: string, params: unknown[], table: string): Promise<number> {
  const client = await t.pool.connect();
  try {
    await client.query('BEGIN');
    const res = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, params);
    const plan = (res.rows[0]['QUERY PLAN'] as [{ Plan: PlanNode }])[0].Plan;
    let read = 0;
    for (const n of nodes(plan)) {
      if (n['Relation Name'] === table && n['Node Type'].endsWith('Scan')) read += n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0);
    }
    return read;
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

let t: TestDatabase;
let ws: string;
let agentId: string;
let userId: string;
let installationId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  const u = await seedUser(t.db);
  userId = u.id;
  ws = (await seedWorkspace(t.db, u.id)).id;
  agentId = (await seedAgent(t.db, { workspaceId: ws, ownerUserId: u.id })).id;
  installationId = (
    await t.pool.query(
      `INSERT INTO lark_installation (workspace_id, agent_id, app_id, app_secret_ciphertext, bot_open_id, installer_user_id) VALUES ($1, $2, 'cli_plans', 'v1:x', 'ou_x', $3) RETURNING id`,
      [ws, agentId, u.id],
    )
  ).rows[0].id;
});
afterAll(async () => t?.drop());

async function addTasks(count: number, status: 'running' | 'completed') {
  await t.pool.query(
    `WITH s AS (
       INSERT INTO chat_session (workspace_id, agent_id, creator_user_id, title)
       SELECT $1, $2, $3, 'load ' || g FROM generate_series(1, $4) g RETURNING id
     ), m AS (
       INSERT INTO chat_message (workspace_id, session_id, role, content) SELECT $1, s.id, 'user', 'hi' FROM s RETURNING id, session_id
     )
     INSERT INTO agent_task (workspace_id, agent_id, session_id, trigger_message_id, status, attempts, claimed_by, started_at, finished_at)
     SELECT $1, $2, m.session_id, m.id, $5, 1, 'w-busy', now(), CASE WHEN $5 = 'completed' THEN now() END FROM m`,
    [ws, agentId, userId, count, status],
  );
}

async function addOutboxRows(count: number, status: 'pending' | 'sent') {
  await t.pool.query(
    `INSERT INTO lark_outbox (workspace_id, installation_id, kind, receive_id_type, receive_id, body, status, sent_at)
     SELECT $1, $2, 'issue_usage', 'chat_id', 'oc_' || g, '{}', $4, CASE WHEN $4 = 'sent' THEN now() END FROM generate_series(1, $3) g`,
    [ws, installationId, count, status],
  );
}

test("a task's completion reads its own row, though the statistics saw no task running", async () => {
  await addTasks(3000, 'completed');
  await t.pool.query('ANALYZE agent_task');
  await addTasks(1000, 'running');
  const row = (await t.pool.query(`SELECT * FROM agent_task WHERE status = 'running' LIMIT 1`)).rows[0];
  const task = { id: row.id, workspaceId: ws, sessionId: row.session_id, attempts: 1 } as AgentTask;
  let captured: SQL | undefined;
  const capturing = { execute: async (query: SQL) => ((captured = query), { rows: [] }) } as unknown as DbOrTx;
  await completeTask(capturing, { task, reply: 'done' });
  const { sql: text, params } = toQuery(captured!);
  expect(await rowsRead(text, params, 'agent_task')).toBeLessThanOrEqual(1);
});

test("an outbox row's update reads its own row, though the statistics saw none waiting", async () => {
  await addOutboxRows(3000, 'sent');
  await t.pool.query('ANALYZE lark_outbox');
  await addOutboxRows(1000, 'pending');
  const id = (await t.pool.query(`SELECT id FROM lark_outbox WHERE status = 'pending' LIMIT 1`)).rows[0].id;
  // The shape of every per-row step of delivery: the row by its id, while it still waits.
  const read = await rowsRead(`UPDATE lark_outbox SET attempts = attempts + 1 WHERE id = $1 AND status = 'pending'`, [id], 'lark_outbox');
  expect(read).toBeLessThanOrEqual(1);
});
