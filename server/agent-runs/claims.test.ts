import { afterAll, beforeAll, expect, test } from 'vitest';
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
