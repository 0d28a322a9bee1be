import { afterAll, beforeAll, expect, test } from 'vitest';
import { appendUserMessage } from '../services/chat';
import { claimTasks, enqueueAgentTask, HISTORY_LIMIT } from '../services/tasks';
import { createTestDatabase, type TestDatabase } from '../../test/db';
import { analyzedPlan, capturedStatement, planNodes, seedTaskChats, type PlanNode } from '../../test/plans';
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

/** The tasks a per-candidate scan of agent_task reads on average, kept or filtered out: one session's worth when right. */
function widestProbe(plan: PlanNode): number {
  let widest = 0;
  for (const n of planNodes(plan)) {
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
    const owner = { workspaceId: ws.id, agentId: a.id, userId: u.id };
    const claimPlan = async () => analyzedPlan(own.pool, await capturedStatement((db) => claimTasks(db, 'w-explain', 32)));
    // The statistics describe the table as it was before the load: every task long finished, so
    // running and queued ones look rare, and every partial index on them looks empty.
    await seedTaskChats(own.pool, owner, 3000, 'completed');
    await own.pool.query('ANALYZE agent_task');
    await seedTaskChats(own.pool, owner, 100, 'running');
    await seedTaskChats(own.pool, owner, 40, 'queued');
    const few = await claimPlan();
    await seedTaskChats(own.pool, owner, 900, 'running');
    const many = await claimPlan();
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
