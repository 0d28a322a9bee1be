import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDb, createPool } from '../db/client';
import { agentTask, chatMessage } from '../db/schema';
import { parseEndpointAllowlist } from '../net/endpoint-allowlist';
import { createGuardedFetch } from '../net/guarded-fetch';
import { appendUserMessage } from '../services/chat';
import { TASK_CANCELLED_CHANNEL } from '../events';
import { cancelTask, claimNextTask, completeTask, enqueueAgentTask, heartbeatTasks, requeueStaleTasks, RUNNER_ROW_KEPT_MS } from '../services/tasks';
import { createTestDatabase, type TestDatabase } from '../../test/db';
import { losingFirstExecuteAnswer, TASK_CLAIM_MARKER } from '../../test/faults';
import { seedAgent, seedSession, seedUser, seedWorkspace } from '../../test/seed';
import { runTaskRunner, TASK_STALE_AFTER_MS, type TaskRunnerOptions } from './task-runner';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

const silent = pino({ level: 'silent' });
// The test model servers listen on loopback, which agents reach only when the operator allows it.
const agentFetch = createGuardedFetch({ allowlist: parseEndpointAllowlist('127.0.0.1') });
afterAll(() => agentFetch.close());

function runnerOptions(workerId: string, extra: Partial<TaskRunnerOptions> = {}): TaskRunnerOptions {
  return { db: t.db, listener: t.listener, workerId, logger: silent, concurrency: 3, pollIntervalMs: 100, runtimeTimeoutMs: 5000, agentFetch, ...extra };
}

async function sendUserMessage(workspaceId: string, sessionId: string, authorUserId: string, content: string) {
  return t.db.transaction(async (tx) => {
    const m = await appendUserMessage(tx, { workspaceId, sessionId, authorUserId, content });
    const outcome = await enqueueAgentTask(tx, { workspaceId, sessionId, triggerMessageId: m.id });
    return { message: m, outcome };
  });
}

async function waitUntil(cond: () => Promise<boolean>, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

async function tasksOf(workspaceId: string) {
  return t.db.select().from(agentTask).where(eq(agentTask.workspaceId, workspaceId));
}

describe('claiming', () => {
  test('concurrent claims never hand out one task twice, and a session runs one task at a time', async () => {
    const u = await seedUser(t.db);
    const ws = await seedWorkspace(t.db, u.id);
    const a = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: u.id });
    const sessions = await Promise.all(Array.from({ length: 8 }, () => seedSession(t.db, { workspaceId: ws.id, agentId: a.id, creatorUserId: u.id })));
    for (const s of sessions) {
      await sendUserMessage(ws.id, s.id, u.id, 'first');
      await sendUserMessage(ws.id, s.id, u.id, 'second');
    }
    const claims = await Promise.all(Array.from({ length: 24 }, (_, i) => claimNextTask(t.db, `w${i}`)));
    const claimed = claims.filter((c) => c !== null);
    // Eight sessions, each with one runnable task (the second waits for the first).
    expect(claimed).toHaveLength(8);
    expect(new Set(claimed.map((c) => c!.id)).size).toBe(8);
    expect(new Set(claimed.map((c) => c!.sessionId)).size).toBe(8);
  });
});

describe('two workers', () => {
  test('run every task exactly once, in order within each session', async () => {
    const u = await seedUser(t.db);
    const ws = await seedWorkspace(t.db, u.id);
    const a = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: u.id });
    const sessions = await Promise.all(Array.from({ length: 5 }, () => seedSession(t.db, { workspaceId: ws.id, agentId: a.id, creatorUserId: u.id })));
    for (let i = 0; i < 6; i++) for (const [n, s] of sessions.entries()) await sendUserMessage(ws.id, s.id, u.id, `s${n}-m${i}`);

    const stop = new AbortController();
    const workers = [runTaskRunner(runnerOptions('worker-a'), stop.signal), runTaskRunner(runnerOptions('worker-b'), stop.signal)];
    await waitUntil(async () => (await tasksOf(ws.id)).every((task) => task.status === 'completed'));
    stop.abort();
    await Promise.all(workers);

    const tasks = await tasksOf(ws.id);
    expect(tasks).toHaveLength(30);
    expect(tasks.every((task) => task.attempts === 1)).toBe(true);
    expect(new Set(tasks.map((task) => task.claimedBy))).toEqual(new Set(['worker-a', 'worker-b']));
    for (const [n, s] of sessions.entries()) {
      const replies = await t.db
        .select({ content: chatMessage.content })
        .from(chatMessage)
        .where(and(eq(chatMessage.sessionId, s.id), eq(chatMessage.role, 'assistant')))
        .orderBy(chatMessage.createdAt);
      expect(replies.map((r) => r.content)).toEqual(Array.from({ length: 6 }, (_, i) => `You said: "s${n}-m${i}"`));
    }
  });
});

type CompletionServer = { url: string; close: () => Promise<void>; requests: Array<{ stream: boolean; auth: string | undefined; messages: unknown[] }> };

/** A minimal OpenAI-compatible chat completions endpoint, streamed and not. */
async function startCompletionServer(behaviour: 'ok' | 'error'): Promise<CompletionServer> {
  const requests: CompletionServer['requests'] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      if (req.url !== '/v1/chat/completions') {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(raw) as { stream?: boolean; messages: Array<{ role: string; content: string }> };
      requests.push({ stream: Boolean(body.stream), auth: req.headers.authorization, messages: body.messages });
      if (behaviour === 'error') {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'model exploded', type: 'server_error' } }));
        return;
      }
      const last = body.messages[body.messages.length - 1].content;
      const answer = `Model reply to: ${last}`;
      if (body.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const piece of answer.match(/.{1,5}/g) ?? []) {
          res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })}\n\n`);
        }
        res.end('data: [DONE]\n\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }] }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

describe('runtimes', () => {
  test.each([false, true])('openai runtime (stream=%s) replies through an OpenAI-compatible server', async (stream) => {
    const server = await startCompletionServer('ok');
    const u = await seedUser(t.db);
    const ws = await seedWorkspace(t.db, u.id);
    const a = await seedAgent(t.db, {
      workspaceId: ws.id,
      ownerUserId: u.id,
      name: 'Gpt',
      runtimeKind: 'openai',
      runtimeConfig: { baseUrl: server.url, model: 'test-model', apiKey: 'sk-test-key', stream },
    });
    const s = await seedSession(t.db, { workspaceId: ws.id, agentId: a.id, creatorUserId: u.id });
    await sendUserMessage(ws.id, s.id, u.id, 'What is 2+2?');
    const stop = new AbortController();
    const worker = runTaskRunner(runnerOptions('w-openai'), stop.signal);
    await waitUntil(async () => (await tasksOf(ws.id)).every((task) => task.status !== 'queued' && task.status !== 'running'));
    stop.abort();
    await worker;
    await server.close();
    const [task] = await tasksOf(ws.id);
    expect(task.status).toBe('completed');
    const [reply] = await t.db.select().from(chatMessage).where(and(eq(chatMessage.sessionId, s.id), eq(chatMessage.role, 'assistant')));
    expect(reply.content).toBe('Model reply to: What is 2+2?');
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ stream, auth: 'Bearer sk-test-key' });
  });

  test.each([
    ['an endpoint that answers 500', 'error' as const, /answered HTTP 500$/, /answered HTTP 500 \(server_error\)$/],
    ['an unreachable endpoint', 'unreachable' as const, /^Could not reach the model endpoint$/, /cannot connect to http:\/\/127\.0\.0\.1:9\/v1/],
  ])('a failing runtime (%s) yields a failed task with a readable error; the endpoint\'s own words reach neither the error nor the detail', async (_name, kind, pattern, detailPattern) => {
    const server = kind === 'error' ? await startCompletionServer('error') : null;
    const u = await seedUser(t.db);
    const ws = await seedWorkspace(t.db, u.id);
    const a = await seedAgent(t.db, {
      workspaceId: ws.id,
      ownerUserId: u.id,
      runtimeKind: 'openai',
      runtimeConfig: { baseUrl: server?.url ?? 'http://127.0.0.1:9/v1', model: 'm', apiKey: 'sk-never-logged', stream: false },
    });
    const s = await seedSession(t.db, { workspaceId: ws.id, agentId: a.id, creatorUserId: u.id });
    await sendUserMessage(ws.id, s.id, u.id, 'hello');
    const stop = new AbortController();
    const worker = runTaskRunner(runnerOptions('w-fail'), stop.signal);
    await waitUntil(async () => (await tasksOf(ws.id))[0].status === 'failed');
    stop.abort();
    await worker;
    await server?.close();
    const [task] = await tasksOf(ws.id);
    expect(task.error).toMatch(pattern);
    expect(task.error).not.toContain('sk-never-logged');
    expect(task.errorDetail).toMatch(detailPattern);
    expect(task.errorDetail).not.toContain('sk-never-logged');
    expect(`${task.error} ${task.errorDetail}`).not.toContain('model exploded');
    const assistant = await t.db.select().from(chatMessage).where(and(eq(chatMessage.sessionId, s.id), eq(chatMessage.role, 'assistant')));
    expect(assistant).toHaveLength(0);
  });

  test('enqueue reports offline and archived agents without queuing', async () => {
    const u = await seedUser(t.db);
    const ws = await seedWorkspace(t.db, u.id);
    const offline = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: u.id, runtimeKind: null });
    const s = await seedSession(t.db, { workspaceId: ws.id, agentId: offline.id, creatorUserId: u.id });
    expect((await sendUserMessage(ws.id, s.id, u.id, 'hi')).outcome).toMatchObject({ outcome: 'agent_offline' });
    expect(await tasksOf(ws.id)).toHaveLength(0);
  });

  test('shutdown mid-run puts the task back in the queue', async () => {
    // A server that never answers keeps the run in flight until the worker stops.
    const hanging = http.createServer(() => {});
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    const port = (hanging.address() as AddressInfo).port;
    const u = await seedUser(t.db);
    const ws = await seedWorkspace(t.db, u.id);
    const a = await seedAgent(t.db, {
      workspaceId: ws.id,
      ownerUserId: u.id,
      runtimeKind: 'openai',
      runtimeConfig: { baseUrl: `http://127.0.0.1:${port}/v1`, model: 'm', apiKey: 'k', stream: false },
    });
    const s = await seedSession(t.db, { workspaceId: ws.id, agentId: a.id, creatorUserId: u.id });
    await sendUserMessage(ws.id, s.id, u.id, 'hello');
    const stop = new AbortController();
    const worker = runTaskRunner(runnerOptions('w-stop'), stop.signal);
    await waitUntil(async () => (await tasksOf(ws.id))[0].status === 'running');
    stop.abort();
    await worker;
    hanging.closeAllConnections();
    await new Promise((r) => hanging.close(r));
    const [task] = await tasksOf(ws.id);
    expect(task.status).toBe('queued');
    expect(task.claimedBy).toBeNull();
  });
});

describe('faults', () => {
  async function echoChat() {
    const u = await seedUser(t.db);
    const ws = await seedWorkspace(t.db, u.id);
    const a = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: u.id });
    const s = await seedSession(t.db, { workspaceId: ws.id, agentId: a.id, creatorUserId: u.id });
    return { u, ws, a, s };
  }

  /** Marks one specific task running under `workerId`, as claimNextTask would. */
  async function claimAs(workerId: string, outcome: Awaited<ReturnType<typeof enqueueAgentTask>>) {
    if (outcome.outcome !== 'enqueued') throw new Error('not enqueued');
    const id = outcome.task.id;
    await t.pool.query(
      `UPDATE agent_task SET status = 'running', claimed_by = $2, attempts = attempts + 1, started_at = now(), heartbeat_at = now() WHERE id = $1`,
      [id, workerId],
    );
    return id;
  }

  test("a running task whose worker stopped heartbeating is requeued at the product's bound; a long run that heartbeats is left alone", async () => {
    expect(TASK_STALE_AFTER_MS).toBeLessThanOrEqual(15_000);
    const dead = await echoChat();
    const alive = await echoChat();
    const deadId = await claimAs('w-crashed', (await sendUserMessage(dead.ws.id, dead.s.id, dead.u.id, 'asked before the crash')).outcome);
    const aliveId = await claimAs('w-busy', (await sendUserMessage(alive.ws.id, alive.s.id, alive.u.id, 'a long question')).outcome);
    // Another worker claimed both; one of them died a while ago, the other still heartbeats.
    const stale = `${(TASK_STALE_AFTER_MS + 2000) / 1000} seconds`;
    await t.pool.query(`UPDATE agent_task SET heartbeat_at = now() - $2::interval, started_at = now() - $2::interval WHERE id = $1`, [deadId, stale]);
    await t.pool.query(`UPDATE agent_task SET heartbeat_at = now(), started_at = now() - interval '10 minutes' WHERE id = $1`, [aliveId]);

    const stop = new AbortController();
    const worker = runTaskRunner(runnerOptions('w-live'), stop.signal);
    await waitUntil(async () => (await tasksOf(dead.ws.id))[0].status === 'completed', 20_000);
    stop.abort();
    await worker;
    expect((await tasksOf(dead.ws.id))[0].claimedBy).toBe('w-live');
    const [stillRunning] = await tasksOf(alive.ws.id);
    expect(stillRunning).toMatchObject({ status: 'running', claimedBy: 'w-busy' });
  });

  test('an old holder cannot finish a task that was requeued and claimed again', async () => {
    const c = await echoChat();
    const id = await claimAs('w-old', (await sendUserMessage(c.ws.id, c.s.id, c.u.id, 'hello')).outcome);
    const [first] = await t.db.select().from(agentTask).where(eq(agentTask.id, id));
    await t.pool.query(`UPDATE agent_task SET heartbeat_at = now() - interval '1 hour' WHERE id = $1`, [id]);
    expect(await requeueStaleTasks(t.db, 1000)).toBeGreaterThanOrEqual(1);
    await claimAs('w-new', { outcome: 'enqueued', task: first });
    const [second] = await t.db.select().from(agentTask).where(eq(agentTask.id, id));
    expect(second.attempts).toBe(first.attempts + 1);
    expect(await completeTask(t.db, { task: first!, reply: 'late answer' })).toBe(false);
    expect(await completeTask(t.db, { task: second!, reply: 'the answer' })).toBe(true);
    const assistant = await t.db.select().from(chatMessage).where(and(eq(chatMessage.sessionId, c.s.id), eq(chatMessage.role, 'assistant')));
    expect(assistant.map((m) => m.content)).toEqual(['the answer']);
  });

  test("a runner's beat keeps its long runs alive by one row of its own; once that row goes stale, the runs are requeued", async () => {
    const c = await echoChat();
    const id = await claimAs('w-long', (await sendUserMessage(c.ws.id, c.s.id, c.u.id, 'a long question')).outcome);
    const [task] = await t.db.select().from(agentTask).where(eq(agentTask.id, id));
    await t.pool.query(`UPDATE agent_task SET heartbeat_at = now() - interval '1 hour', started_at = now() - interval '1 hour' WHERE id = $1`, [id]);
    const { held } = await heartbeatTasks(t.db, { workerId: 'w-long', tasks: [task], staleAfterMs: 1000 });
    expect([...held]).toEqual([id]);
    // The beat renewed the runner, not the task.
    const row = async () => (await t.pool.query(`SELECT status, heartbeat_at < now() - interval '1 minute' AS old FROM agent_task WHERE id = $1`, [id])).rows[0];
    expect(await row()).toEqual({ status: 'running', old: true });
    expect(await requeueStaleTasks(t.db, 1000)).toBe(0);
    expect((await row()).status).toBe('running');

    await t.pool.query(`UPDATE task_runner SET heartbeat_at = now() - interval '1 minute' WHERE runner_id = 'w-long'`);
    expect(await requeueStaleTasks(t.db, 1000)).toBeGreaterThanOrEqual(1);
    expect((await row()).status).toBe('queued');

    // Long gone, the runner's row is dropped; a live runner's row stays.
    await heartbeatTasks(t.db, { workerId: 'w-alive', tasks: [], staleAfterMs: 1000 });
    await t.pool.query(`UPDATE task_runner SET heartbeat_at = now() - make_interval(secs => $1) WHERE runner_id = 'w-long'`, [RUNNER_ROW_KEPT_MS / 1000 + 60]);
    await requeueStaleTasks(t.db, 1000);
    const runners = await t.pool.query(`SELECT runner_id FROM task_runner WHERE runner_id IN ('w-long', 'w-alive')`);
    expect(runners.rows.map((r) => r.runner_id)).toEqual(['w-alive']);
  });

  test('a beat does not wait for a run storing its answer, and reports its task held', async () => {
    const c = await echoChat();
    const id = await claimAs('w-storing', (await sendUserMessage(c.ws.id, c.s.id, c.u.id, 'hello')).outcome);
    const [task] = await t.db.select().from(agentTask).where(eq(agentTask.id, id));
    // The completion holds the task's row while it commits.
    const storing = await t.pool.connect();
    try {
      await storing.query('BEGIN');
      await storing.query(`UPDATE agent_task SET error = error WHERE id = $1`, [id]);
      const beat = await t.db.transaction(async (tx) => {
        await tx.execute(sql`SET LOCAL lock_timeout = '500ms'`);
        return heartbeatTasks(tx, { workerId: 'w-storing', tasks: [task], staleAfterMs: 1000 });
      });
      // Reported held: the row is only read, so the lock the completion holds is no obstacle.
      expect([...beat.held]).toEqual([id]);
      await storing.query('COMMIT');
    } finally {
      storing.release();
    }
  });

  test("a beat requeues its runner's own running tasks it no longer runs, but never a claim still on its way", async () => {
    const lost = await echoChat();
    const fresh = await echoChat();
    const lostId = await claimAs('w-forgetful', (await sendUserMessage(lost.ws.id, lost.s.id, lost.u.id, 'claimed, then the run ended unrecorded')).outcome);
    const freshId = await claimAs('w-forgetful', (await sendUserMessage(fresh.ws.id, fresh.s.id, fresh.u.id, 'claimed a moment ago')).outcome);
    await t.pool.query(`UPDATE agent_task SET started_at = now() - interval '1 minute', heartbeat_at = now() - interval '1 minute' WHERE id = $1`, [lostId]);
    const { held, cancelled } = await heartbeatTasks(t.db, { workerId: 'w-forgetful', tasks: [], staleAfterMs: 5000 });
    expect([held.size, cancelled.size]).toEqual([0, 0]);
    const statuses = await t.pool.query(`SELECT id, status, claimed_by FROM agent_task WHERE id = ANY($1::uuid[]) ORDER BY status`, [[lostId, freshId]]);
    expect(statuses.rows).toEqual([
      { id: lostId, status: 'queued', claimed_by: null },
      { id: freshId, status: 'running', claimed_by: 'w-forgetful' },
    ]);
  });

  test('a transient failure while storing the answer does not fail a successful run', async () => {
    const c = await echoChat();
    await sendUserMessage(c.ws.id, c.s.id, c.u.id, 'hello');
    let failures = 0;
    const hooks = {
      async answerWrite(_db: unknown, task: { workspaceId: string }) {
        // Reading where the answer goes fails once, as during a database blip.
        if (task.workspaceId === c.ws.id && failures++ === 0) throw new Error('connection terminated unexpectedly');
        return null;
      },
      async afterFail() {},
    };
    const stop = new AbortController();
    const worker = runTaskRunner(runnerOptions('w-blip', { hooks }), stop.signal);
    await waitUntil(async () => ['completed', 'failed'].includes((await tasksOf(c.ws.id))[0].status));
    stop.abort();
    await worker;
    expect((await tasksOf(c.ws.id))[0].status).toBe('completed');
    const assistant = await t.db.select().from(chatMessage).where(and(eq(chatMessage.sessionId, c.s.id), eq(chatMessage.role, 'assistant')));
    expect(assistant).toHaveLength(1);
  });

  test('a claim whose answer is lost (the connection dropped after it committed) neither crashes the runner nor loses the task', async () => {
    const c = await echoChat();
    await sendUserMessage(c.ws.id, c.s.id, c.u.id, 'hello');
    // The first claim reaches the database and commits, then its answer is lost, as when the
    // connection drops mid-reply: the task is running with nobody running it.
    const { handle: flaky, lost } = losingFirstExecuteAnswer(t.db, TASK_CLAIM_MARKER);
    const rejections: unknown[] = [];
    const onRejection = (err: unknown) => rejections.push(err);
    process.on('unhandledRejection', onRejection);
    const stop = new AbortController();
    const worker = runTaskRunner(runnerOptions('w-flaky', { db: flaky, heartbeatMs: 100, staleAfterMs: 500 }), stop.signal);
    try {
      await waitUntil(async () => (await tasksOf(c.ws.id))[0].status === 'completed');
    } finally {
      stop.abort();
      await worker;
      process.off('unhandledRejection', onRejection);
    }
    expect(rejections).toEqual([]);
    expect(lost()).toBe(true);
    // Requeued by the stale-task sweep and run once more.
    expect((await tasksOf(c.ws.id))[0].attempts).toBe(2);
    const assistant = await t.db.select().from(chatMessage).where(and(eq(chatMessage.sessionId, c.s.id), eq(chatMessage.role, 'assistant')));
    expect(assistant).toHaveLength(1);
  });
});

describe('claims on connections of their own', () => {
  test('a runner whose shared pool is taken up by the work it started still claims the next tasks', async () => {
    const u = await seedUser(t.db);
    const ws = await seedWorkspace(t.db, u.id);
    const a = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: u.id });
    const sessions = await Promise.all(Array.from({ length: 3 }, () => seedSession(t.db, { workspaceId: ws.id, agentId: a.id, creatorUserId: u.id })));
    // The shared pool's only connection is held, as by runs storing their answers under load.
    const busyPool = createPool(t.url, 1);
    const held = await busyPool.connect();
    const stop = new AbortController();
    const runner = runTaskRunner(runnerOptions('worker-claims', { db: createDb(busyPool), claimDb: t.db }), stop.signal);
    try {
      for (const [n, s] of sessions.entries()) await sendUserMessage(ws.id, s.id, u.id, `q${n}`);
      await waitUntil(async () => (await tasksOf(ws.id)).every((x) => x.status === 'running'));
      expect((await tasksOf(ws.id)).map((x) => x.claimedBy)).toEqual(['worker-claims', 'worker-claims', 'worker-claims']);
      // Once the pool frees up, the runs store their answers.
      held.release();
      await waitUntil(async () => (await tasksOf(ws.id)).every((x) => x.status === 'completed'));
    } finally {
      stop.abort();
      await runner;
      await busyPool.end();
    }
  });
});

describe('a stop whose notice never arrives', () => {
  test('the heartbeat finds the task cancelled and the run hands over what it wrote', async () => {
    const u = await seedUser(t.db);
    const ws = await seedWorkspace(t.db, u.id);
    const a = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: u.id, runtimeConfig: { wordDelayMs: 200 } });
    const s = await seedSession(t.db, { workspaceId: ws.id, agentId: a.id, creatorUserId: u.id });
    // The listener drops the cancel notice, as a notice lost with a connection would be.
    const deaf = Object.assign(Object.create(t.listener) as typeof t.listener, {
      subscribe: (channel: string, sub: Parameters<typeof t.listener.subscribe>[1]) => (channel === TASK_CANCELLED_CHANNEL ? () => {} : t.listener.subscribe(channel, sub)),
    });
    const stop = new AbortController();
    const runner = runTaskRunner(runnerOptions('worker-deaf', { listener: deaf, heartbeatMs: 100 }), stop.signal);
    try {
      const { outcome } = await sendUserMessage(ws.id, s.id, u.id, 'one two three four five six seven eight nine ten');
      if (outcome.outcome !== 'enqueued') throw new Error('not enqueued');
      await waitUntil(async () => (await tasksOf(ws.id))[0]?.status === 'running');
      await new Promise((r) => setTimeout(r, 500));
      expect(await cancelTask(t.db, { workspaceId: ws.id, taskId: outcome.task.id, reason: 'stopped' })).toMatchObject({ previousStatus: 'running' });
      await waitUntil(async () => (await t.db.select().from(chatMessage).where(and(eq(chatMessage.sessionId, s.id), eq(chatMessage.role, 'assistant')))).length > 0);
      const [answer] = await t.db.select().from(chatMessage).where(and(eq(chatMessage.sessionId, s.id), eq(chatMessage.role, 'assistant')));
      expect(answer.endReason).toBe('stopped');
      expect(answer.content.length).toBeGreaterThan(0);
      expect('You said: "one two three four five six seven eight nine ten"'.startsWith(answer.content)).toBe(true);
    } finally {
      stop.abort();
      await runner;
    }
  });
});
