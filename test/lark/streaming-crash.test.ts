import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { SecretBox } from '@/server/crypto/secretbox';
import { chatMessage, larkUserBinding } from '@/server/db/schema';
import { startWorkerProcess, stopWorkerProcess, type WorkerProcess } from '../../scripts/worker-process';
import { useTestDatabase, type TestDatabase } from '../db';
import { seedAgent, seedUser, seedWorkspace } from '../seed';
import { installSimBot, openIdOf, startSim, waitFor, type Sim } from './sim';

// A worker process killed (SIGKILL) while an answer streams: the card it was writing is marked
// interrupted, and the run retried by another worker gives exactly one complete answer.

let t: TestDatabase;
let sim: Sim;
const key = randomBytes(32);
const workers: WorkerProcess[] = [];

function workerEnv(nodeId: string): Record<string, string | undefined> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];
  return {
    ...Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]])),
    DATABASE_URL: t.url,
    LARK_SECRET_KEY: key.toString('base64'),
    LARK_OPEN_BASE_URL: `${sim.url}/{region}`,
    LARK_ACCOUNTS_BASE_URL: `${sim.url}/{region}`,
    APP_URL: 'http://127.0.0.1:3000',
    WORKER_PORT: '0',
    WORKER_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    BETTER_AUTH_SECRET: randomBytes(24).toString('hex'),
    NODE_ID: nodeId,
    WORKER_POLL_INTERVAL_MS: '200',
  };
}

async function spawnWorker(nodeId: string): Promise<WorkerProcess> {
  const w = await startWorkerProcess(workerEnv(nodeId), path.join(os.tmpdir(), `larkspur-${nodeId}-${process.pid}.log`));
  workers.push(w);
  return w;
}

type SimMessage = { message_id: string; sender: { type: string }; content: Record<string, unknown>; card_entity: { streaming_mode: boolean } | null; recalled_at: unknown };
const botMessages = async (chatId: string) =>
  (await sim.control<{ messages: SimMessage[] }>('GET', `/chats/${chatId}/messages`)).messages.filter((m) => m.sender.type === 'app');
const markdownOf = (content: Record<string, unknown>, id: string) =>
  ((content.body as { elements?: Array<{ element_id?: string; content?: string }> } | undefined)?.elements ?? []).find((e) => e.element_id === id)?.content ?? '';

beforeAll(async () => {
  t = await useTestDatabase();
  sim = await startSim({ redeliveryBackoffMs: 200 });
}, 60_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => stopWorkerProcess(w, 10_000).catch(() => undefined)));
  await sim?.close();
  await t?.drop();
});

test('a worker killed mid-stream: its card ends marked interrupted and the retried run answers exactly once', async () => {
  const owner = await seedUser(t.db);
  const ws = await seedWorkspace(t.db, owner.id);
  const tenantKey = (await sim.control('POST', '/tenants', { brand: 'lark', name: 'Crash Co' })).tenant_key;
  const a = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: owner.id, name: 'Steady', runtimeConfig: { wordDelayMs: 250 } });
  const bot = await installSimBot(t.db, sim, new SecretBox(key), { tenantKey, workspaceId: ws.id, agentId: a.id, installerUserId: owner.id, name: 'Steady', region: 'lark' });
  const lark = await sim.control<{ id: string }>('POST', '/users', { tenant_key: tenantKey, name: 'Rae' });
  await t.db.insert(larkUserBinding).values({ workspaceId: ws.id, installationId: bot.installation.id, userId: owner.id, larkOpenId: await openIdOf(sim, bot.appId, lark.id) });

  const first = await spawnWorker('crash-first');
  await waitFor(async () => (await sim.control('GET', `/apps/${bot.appId}`)).connections === 1, 30_000, 'first worker connected');
  const words = Array.from({ length: 24 }, (_, i) => `word${i}`).join(' ');
  const sent = await sim.control<{ chat_id: string; message_id: string }>('POST', '/messages', { user_id: lark.id, app_id: bot.appId, text: words });
  const interrupted = await waitFor(
    async () => (await botMessages(sent.chat_id)).find((m) => m.card_entity?.streaming_mode && markdownOf(m.content, 'answer').length > 0),
    30_000,
    'a streaming card',
  );
  first.child.kill('SIGKILL');
  await first.exited;

  await spawnWorker('crash-second');
  const expected = `You said: "${words}"`;
  await waitFor(async () => (await botMessages(sent.chat_id)).some((m) => m.card_entity?.streaming_mode === false && markdownOf(m.content, 'answer') === expected), 60_000, 'the complete answer');
  await waitFor(async () => (await botMessages(sent.chat_id)).find((m) => m.message_id === interrupted.message_id)?.card_entity?.streaming_mode === false, 15_000, 'the old card closed');

  const bots = await botMessages(sent.chat_id);
  const complete = bots.filter((m) => markdownOf(m.content, 'answer') === expected);
  expect(complete).toHaveLength(1);
  expect(complete[0].message_id).not.toBe(interrupted.message_id);
  const old = bots.find((m) => m.message_id === interrupted.message_id)!;
  expect(markdownOf(old.content, 'note')).toContain('interrupted');
  expect(bots.every((m) => m.card_entity?.streaming_mode !== true)).toBe(true);

  const session = await t.db.execute<{ session_id: string }>(sql`
    SELECT m.session_id FROM chat_message m JOIN lark_inbound_message l ON l.chat_message_id = m.id WHERE l.lark_message_id = ${sent.message_id}`);
  const answers = await t.db
    .select()
    .from(chatMessage)
    .where(and(eq(chatMessage.sessionId, session.rows[0].session_id), eq(chatMessage.role, 'assistant')));
  expect(answers.map((m) => m.content)).toEqual([expected]);
}, 150_000);
