import { and, eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/db';
import { seedAgent, seedSession, seedUser, seedWorkspace } from '../../test/seed';
import { agentTask, chatMessage } from '../db/schema';
import { WORKSPACE_EVENTS_CHANNEL } from '../events';
import { appendUserMessage } from '../services/chat';
import { cancelTask, enqueueAgentTask } from '../services/tasks';
import { runTaskRunner } from './task-runner';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

const silent = pino({ level: 'silent' });

async function waitUntil<T>(cond: () => Promise<T | null | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A workspace with a streaming echo agent (`wordDelayMs` between words) and one session. */
async function streamingSession(wordDelayMs: number) {
  const u = await seedUser(t.db);
  const ws = await seedWorkspace(t.db, u.id);
  const a = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: u.id, runtimeConfig: { wordDelayMs } });
  const s = await seedSession(t.db, { workspaceId: ws.id, agentId: a.id, creatorUserId: u.id });
  const ask = (content: string) =>
    t.db.transaction(async (tx) => {
      const m = await appendUserMessage(tx, { workspaceId: ws.id, sessionId: s.id, authorUserId: u.id, content });
      const queued = await enqueueAgentTask(tx, { workspaceId: ws.id, sessionId: s.id, triggerMessageId: m.id });
      if (queued.outcome !== 'enqueued') throw new Error('not enqueued');
      return queued.task.id;
    });
  return { ws, session: s, ask };
}

function startRunner(signal: AbortSignal) {
  return runTaskRunner({ db: t.db, listener: t.listener, workerId: 'stream-test', logger: silent, concurrency: 4, pollIntervalMs: 100, runtimeTimeoutMs: 20_000, streamFlushMs: 100 }, signal);
}

const answers = (sessionId: string) =>
  t.db.select().from(chatMessage).where(and(eq(chatMessage.sessionId, sessionId), eq(chatMessage.role, 'assistant')));

describe('a streaming run', () => {
  test('the web chat sees the answer grow frame by frame, and the answer is stored once, equal to what was streamed', async () => {
    const { session, ask } = await streamingSession(40);
    const deltas: Array<{ task_id: string; offset: number; text: string; at: number }> = [];
    const unsubscribe = t.listener.subscribe(WORKSPACE_EVENTS_CHANNEL, {
      onNotify: (payload) => {
        const event = JSON.parse(payload) as { type: string; session_id: string; task_id: string; offset: number; text: string };
        if (event.type === 'task.delta' && event.session_id === session.id) deltas.push({ ...event, at: Date.now() });
      },
    });
    const stop = new AbortController();
    const runner = startRunner(stop.signal);
    try {
      const question = 'please say these twelve words back to me so that the answer takes a while';
      const taskId = await ask(question);
      const stored = await waitUntil(async () => {
        const rows = await answers(session.id);
        return rows.length > 0 && rows;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(await answers(session.id)).toHaveLength(1);
      const [task] = await t.db.select().from(agentTask).where(eq(agentTask.id, taskId));
      // Several frames, all before the answer was stored.
      expect(deltas.length).toBeGreaterThanOrEqual(3);
      expect(deltas.every((d) => d.at <= task.finishedAt!.getTime() + 50)).toBe(true);
      // Each frame continues the text where the previous one ended.
      let shown = '';
      for (const d of deltas.filter((x) => x.task_id === taskId)) {
        expect(d.offset).toBe(shown.length);
        shown += d.text;
      }
      // What the web chat showed is the stored answer as far as it had grown.
      expect(stored[0].content.startsWith(shown)).toBe(true);
      expect(shown.length).toBeGreaterThan(question.length / 2);
    } finally {
      unsubscribe();
      stop.abort();
      await runner;
    }
  });

  test('cancelled as Stop, the run ends at once and keeps what it wrote as a stopped answer', async () => {
    const { ws, session, ask } = await streamingSession(150);
    const stop = new AbortController();
    const runner = startRunner(stop.signal);
    let sawText = false;
    const unsubscribe = t.listener.subscribe(WORKSPACE_EVENTS_CHANNEL, {
      onNotify: (payload) => {
        if ((JSON.parse(payload) as { type: string }).type === 'task.delta') sawText = true;
      },
    });
    try {
      const taskId = await ask('one two three four five six seven eight nine ten eleven twelve thirteen fourteen');
      await waitUntil(async () => sawText);
      const pressedAt = Date.now();
      const cancelled = await cancelTask(t.db, { workspaceId: ws.id, taskId, reason: 'stopped' });
      expect(cancelled?.previousStatus).toBe('running');
      const [partial] = await waitUntil(async () => {
        const rows = await answers(session.id);
        return rows.length > 0 && rows;
      }, 5_000);
      // The run stopped within a second of the press, and what it had written is kept, marked stopped.
      expect(Date.now() - pressedAt).toBeLessThan(1_000);
      expect(partial.endReason).toBe('stopped');
      expect(partial.content.length).toBeGreaterThan(0);
      expect('You said: "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"'.startsWith(partial.content)).toBe(true);
      expect(partial.content.length).toBeLessThan(80);
      const [task] = await t.db.select().from(agentTask).where(eq(agentTask.id, taskId));
      expect(task).toMatchObject({ status: 'cancelled', cancelReason: 'stopped' });
      // Nothing completes it afterwards.
      await new Promise((r) => setTimeout(r, 2_500));
      expect(await answers(session.id)).toHaveLength(1);
      expect((await t.db.select().from(agentTask).where(eq(agentTask.id, taskId)))[0].status).toBe('cancelled');
    } finally {
      unsubscribe();
      stop.abort();
      await runner;
    }
  });

  test('a task that already ended cannot be cancelled, and nothing changes', async () => {
    const { ws, session, ask } = await streamingSession(0);
    const stop = new AbortController();
    const runner = startRunner(stop.signal);
    try {
      const taskId = await ask('hello');
      await waitUntil(async () => (await answers(session.id)).length > 0);
      expect(await cancelTask(t.db, { workspaceId: ws.id, taskId, reason: 'stopped' })).toBeNull();
      expect((await t.db.select().from(agentTask).where(eq(agentTask.id, taskId)))[0].status).toBe('completed');
    } finally {
      stop.abort();
      await runner;
    }
  });
});
