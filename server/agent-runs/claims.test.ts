import type { SQL } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { DbOrTx } from '../db/client';
import { toQuery } from '../db/prepared';
import { appendUserMessage } from '../services/chat';
import { claimTasks, enqueueAgentTask, HISTORY_LIMIT } from '../services/tasks';
import { createTestDatabase, type TestDatabase } from '../../test/db';
import { seedAgent, seedSession, seedUser, seedWorkspace } from '../../test/seed';

// Its own database: claims take from every workspace, so no other test's tasks may be queued.
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

async function askInNewChat(workspaceId: string, agentId: string, userId: string) {
  const s = await seedSession(t.db, { workspaceId, agentId, creatorUserId: userId });
  await t.db.transaction(async (tx) => {
    const m = await appendUserMessage(tx, { workspaceId, sessionId: s.id, authorUserId: userId, content: 'hi' });
    await enqueueAgentTask(tx, { workspaceId, sessionId: s.id, triggerMessageId: m.id });
  });
}

test('a workspace past its fair share waits while another has runnable tasks, and gets every slot nobody else needs', async () => {
  const u = await seedUser(t.db);
  const busy = await seedWorkspace(t.db, u.id);
  const quiet = await seedWorkspace(t.db, u.id);
  const busyAgent = await seedAgent(t.db, { workspaceId: busy.id, ownerUserId: u.id });
  const quietAgent = await seedAgent(t.db, { workspaceId: quiet.id, ownerUserId: u.id });
  for (let i = 0; i < 5; i++) await askInNewChat(busy.id, busyAgent.id, u.id);
  // Asked last: plain enqueue order would serve every busy task first.
  await askInNewChat(quiet.id, quietAgent.id, u.id);

  const share = 2;
  const first = await claimTasks(t.db, 'w1', 2, share);
  expect(first.map((c) => c.task.workspaceId)).toEqual([busy.id, busy.id]);
  const next = await claimTasks(t.db, 'w2', 1, share);
  expect(next.map((c) => c.task.workspaceId)).toEqual([quiet.id]);
  // Nobody else waits: the busy workspace takes the rest, past its share.
  const rest = await claimTasks(t.db, 'w1', 10, share);
  expect(rest.map((c) => c.task.workspaceId)).toEqual([busy.id, busy.id, busy.id]);
  expect(rest.every((c) => c.agent?.id === busyAgent.id && c.history.length === 1)).toBe(true);
});

test('a claimed run sees the most recent turns up to its trigger, oldest first', async () => {
  const u = await seedUser(t.db);
  const ws = await seedWorkspace(t.db, u.id);
  const a = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: u.id });
  const s = await seedSession(t.db, { workspaceId: ws.id, agentId: a.id, creatorUserId: u.id });
  for (let i = 0; i < HISTORY_LIMIT + 5; i++) await appendUserMessage(t.db, { workspaceId: ws.id, sessionId: s.id, authorUserId: u.id, content: `m${i}` });
  const task = await t.db.transaction(async (tx) => {
    const m = await appendUserMessage(tx, { workspaceId: ws.id, sessionId: s.id, authorUserId: u.id, content: 'trigger' });
    return enqueueAgentTask(tx, { workspaceId: ws.id, sessionId: s.id, triggerMessageId: m.id });
  });
  if (task.outcome !== 'enqueued') throw new Error('expected a task');
  await appendUserMessage(t.db, { workspaceId: ws.id, sessionId: s.id, authorUserId: u.id, content: 'after the trigger' });
  const [claimed, ...others] = await claimTasks(t.db, 'w-history', 10);
  expect(others).toEqual([]);
  expect(claimed.task.id).toBe(task.task.id);
  expect(claimed.history).toHaveLength(HISTORY_LIMIT);
  expect(claimed.history[claimed.history.length - 1].content).toBe('trigger');
  expect(claimed.history[0].content).toBe(`m${6}`);
});

/** The claim statement claimTasks would send, captured instead of run. */
async function claimStatement(workerId: string, limit: number) {
  let captured: SQL | undefined;
  const capturing = { execute: async (query: SQL) => ((captured = query), { rows: [] }) } as unknown as DbOrTx;
  await claimTasks(capturing, workerId, limit);
  if (!captured) throw new Error('no claim statement');
  return toQuery(captured);
}

type PlanNode = {
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

function* nodes(plan: PlanNode): Generator<PlanNode> {
  yield plan;
  for (const child of plan.Plans ?? []) yield* nodes(child);
}

/** The claim's plan, run for real (EXPLAIN ANALYZE) and rolled back. */
async function claimPlan(db: TestDatabase, limit: number): Promise<PlanNode> {
  const { sql: text, params } = await claimStatement('w-explain', limit);
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    const res = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`, params);
    return (res.rows[0]['QUERY PLAN'] as [{ Plan: PlanNode }])[0].Plan;
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

/** The tasks a per-candidate scan of agent_task reads on average, kept or filtered out: one session's worth when right. */
function widestProbe(plan: PlanNode): number {
  let widest = 0;
  for (const n of nodes(plan)) {
    if (n['Relation Name'] !== 'agent_task' || n['Actual Loops'] < 2) continue;
    widest = Math.max(widest, (n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0)) / n['Actual Loops']);
  }
  return widest;
}

test("a claim's work does not grow with the runs in flight, whatever the planner's statistics say", async () => {
  // A database of its own: the plan depends on the table's statistics, which other tests would change.
  const own = await createTestDatabase();
  try {
    const u = await seedUser(own.db);
    const ws = await seedWorkspace(own.db, u.id);
    const a = await seedAgent(own.db, { workspaceId: ws.id, ownerUserId: u.id });
    // Sessions with a question each: finished ones, ones being answered, and waiting ones.
    const addChats = async (count: number, status: 'running' | 'queued' | 'completed') => {
      await own.pool.query(
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
        [ws.id, a.id, u.id, count, status],
      );
    };
    // The statistics describe the table as it was before the load: every task long finished, so
    // running and queued ones look rare, and every partial index on them looks empty.
    await addChats(3000, 'completed');
    await own.pool.query('ANALYZE agent_task');
    await addChats(100, 'running');
    await addChats(40, 'queued');
    const few = await claimPlan(own, 32);
    await addChats(900, 'running');
    const many = await claimPlan(own, 32);
    const buffers = (plan: PlanNode) => plan['Shared Hit Blocks'] + plan['Shared Read Blocks'];
    // Each candidate's probe reads its own session's tasks, not every running one (1,000 here).
    expect(widestProbe(few)).toBeLessThan(5);
    expect(widestProbe(many)).toBeLessThan(5);
    // Ten times the runs in flight: the fair-share count reads more of its index (about 300 buffers
    // here); the claim's own probes stay the same. Scanning every running task for each candidate
    // added about 900, and grows with each one.
    expect(buffers(many) - buffers(few)).toBeLessThan(400);
  } finally {
    await own.drop();
  }
});
