// Attack (or bad luck): the database fails while the worker starts a task, e.g. a connection killed
// mid-reply after the claim committed. Such a failure once became an unhandled rejection that
// crashed the worker, and under `npm start` the launcher then stopped the whole product. Now the
// failure is logged, the task (running, with nobody running it) is requeued by the stale-task sweep
// and answered, and the process never sees an unhandled rejection. The runner's own suite covers
// the same fault next to the code (server/agent-runs/task-runner.test.ts); this is the scenario as
// an attacker would trigger it.
import pino from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runTaskRunner } from '@/server/agent-runs/task-runner';
import { appendUserMessage } from '@/server/services/chat';
import { enqueueAgentTask } from '@/server/services/tasks';
import { createTestDatabase, type TestDatabase } from '../db';
import { losingFirstExecuteAnswer, TASK_CLAIM_MARKER } from '../faults';
import { seedAgent, seedSession, seedUser, seedWorkspace } from '../seed';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

test('a database error while starting a task neither crashes the worker nor loses the message', async () => {
  const u = await seedUser(t.db);
  const ws = await seedWorkspace(t.db, u.id);
  const a = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: u.id });
  const s = await seedSession(t.db, { workspaceId: ws.id, agentId: a.id, creatorUserId: u.id });
  await t.db.transaction(async (tx) => {
    const m = await appendUserMessage(tx, { workspaceId: ws.id, sessionId: s.id, authorUserId: u.id, content: 'hello' });
    await enqueueAgentTask(tx, { workspaceId: ws.id, sessionId: s.id, triggerMessageId: m.id });
  });

  const flaky = losingFirstExecuteAnswer(t.db, TASK_CLAIM_MARKER);
  const rejections: unknown[] = [];
  const onRejection = (err: unknown) => rejections.push(err);
  process.on('unhandledRejection', onRejection);
  const stop = new AbortController();
  const runner = runTaskRunner(
    { db: flaky.handle, listener: t.listener, workerId: 'w-db-error', logger: pino({ level: 'silent' }), concurrency: 2, pollIntervalMs: 100, runtimeTimeoutMs: 5000, heartbeatMs: 100, staleAfterMs: 500 },
    stop.signal,
  );
  try {
    const deadline = Date.now() + 15_000;
    let status = '';
    while (Date.now() < deadline) {
      status = (await t.pool.query('SELECT status FROM agent_task WHERE agent_id = $1', [a.id])).rows[0]?.status;
      if (status === 'completed') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe('completed');
  } finally {
    stop.abort();
    await runner;
    process.off('unhandledRejection', onRejection);
  }
  expect(rejections).toEqual([]);
  expect(flaky.lost()).toBe(true);
  expect((await t.pool.query('SELECT attempts FROM agent_task WHERE agent_id = $1', [a.id])).rows[0].attempts).toBe(2);
});
