import { afterAll, beforeAll, expect, test } from 'vitest';
import { completeTask, type AgentTask } from '../../server/services/tasks';
import { createTestDatabase, type TestDatabase } from '../db';
import { analyzedPlan, capturedStatement, planNodes, seedTaskChats } from '../plans';
import { seedAgent, seedUser, seedWorkspace } from '../seed';

// A row's own update must read that row, whatever the planner's statistics say about how many
// tasks run or outbox rows wait. Statistics taken while few did made each partial index on those
// states look empty and cheaper than the primary key: a task's completion then read every running
// task, and a part's bookkeeping every pending outbox row.

/** Rows of `table` the statement's scans read, kept or filtered out, run for real and rolled back. */
async function rowsRead(statement: { sql: string; params: unknown[] }, table: string): Promise<number> {
  let read = 0;
  for (const n of planNodes(await analyzedPlan(t.pool, statement))) {
    if (n['Relation Name'] === table && n['Node Type'].endsWith('Scan')) read += n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0);
  }
  return read;
}

let t: TestDatabase;
let owner: { workspaceId: string; agentId: string; userId: string };
let installationId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  const u = await seedUser(t.db);
  const ws = (await seedWorkspace(t.db, u.id)).id;
  owner = { workspaceId: ws, agentId: (await seedAgent(t.db, { workspaceId: ws, ownerUserId: u.id })).id, userId: u.id };
  installationId = (
    await t.pool.query(
      `INSERT INTO lark_installation (workspace_id, agent_id, app_id, app_secret_ciphertext, bot_open_id, installer_user_id) VALUES ($1, $2, 'cli_plans', 'v1:x', 'ou_x', $3) RETURNING id`,
      [ws, owner.agentId, u.id],
    )
  ).rows[0].id;
});
afterAll(async () => t?.drop());

async function addOutboxRows(count: number, status: 'pending' | 'sent') {
  await t.pool.query(
    `INSERT INTO lark_outbox (workspace_id, installation_id, kind, receive_id_type, receive_id, body, status, sent_at)
     SELECT $1, $2, 'issue_usage', 'chat_id', 'oc_' || g, '{}', $4, CASE WHEN $4 = 'sent' THEN now() END FROM generate_series(1, $3) g`,
    [owner.workspaceId, installationId, count, status],
  );
}

test("a task's completion reads its own row, though the statistics saw no task running", async () => {
  await seedTaskChats(t.pool, owner, 3000, 'completed');
  await t.pool.query('ANALYZE agent_task');
  await seedTaskChats(t.pool, owner, 1000, 'running');
  const row = (await t.pool.query(`SELECT * FROM agent_task WHERE status = 'running' LIMIT 1`)).rows[0];
  const task = { id: row.id, workspaceId: owner.workspaceId, sessionId: row.session_id, attempts: 1 } as AgentTask;
  const completion = await capturedStatement((db) => completeTask(db, { task, reply: 'done' }));
  expect(await rowsRead(completion, 'agent_task')).toBeLessThanOrEqual(1);
});

test("an outbox row's update reads its own row, though the statistics saw none waiting", async () => {
  await addOutboxRows(3000, 'sent');
  await t.pool.query('ANALYZE lark_outbox');
  await addOutboxRows(1000, 'pending');
  const id = (await t.pool.query(`SELECT id FROM lark_outbox WHERE status = 'pending' LIMIT 1`)).rows[0].id;
  // The shape of every per-row step of delivery: the row by its id, while it still waits.
  const update = { sql: `UPDATE lark_outbox SET attempts = attempts + 1 WHERE id = $1 AND status = 'pending'`, params: [id] };
  expect(await rowsRead(update, 'lark_outbox')).toBeLessThanOrEqual(1);
});
