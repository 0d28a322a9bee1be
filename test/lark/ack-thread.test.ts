import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { SecretBox } from '@/server/crypto/secretbox';
import { larkInstallation, larkUserBinding } from '@/server/db/schema';
import { parseEnv, resetEnvForTests } from '@/server/env';
import { startWorker, type RunningWorker } from '@/worker/worker';
import { useTestDatabase, type TestDatabase } from '../db';
import { seedAgent, seedUser, seedWorkspace } from '../seed';
import { startSim, waitFor, type Sim } from './sim';

// The worker as the worker process runs it: connections, dispatch and ACKs on the ACK thread.
let t: TestDatabase;
let sim: Sim;
let worker: RunningWorker;
const key = randomBytes(32);

beforeAll(async () => {
  t = await useTestDatabase();
  sim = await startSim({ chatRateLimitPerSecond: 1000, rateLimitPerSecond: 1000 });
  const envSource = {
    ...process.env,
    DATABASE_URL: t.url,
    LARK_SECRET_KEY: key.toString('base64'),
    LARK_OPEN_BASE_URL: `${sim.url}/{region}`,
    WORKER_POLL_INTERVAL_MS: '100',
    LARK_BACKOFF_MIN_MS: '200',
  };
  resetEnvForTests();
  worker = await startWorker({
    config: parseEnv(envSource),
    integration: { configured: true, box: new SecretBox(key), hosts: { openBaseUrl: envSource.LARK_OPEN_BASE_URL }, httpTimeoutMs: 3000 },
    nodeId: 'ack-thread-test',
    logger: pino({ level: 'silent' }),
    hubConfig: { leaseRenewMs: 300, sweepMs: 300 },
    opsPort: 0,
    ackThread: true,
  });
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await sim?.close();
  await t?.drop();
});

async function connectedBot(name: string) {
  const owner = await seedUser(t.db);
  const ws = await seedWorkspace(t.db, owner.id);
  const tenant = (await sim.control('POST', '/tenants', { brand: 'feishu', name })).tenant_key;
  const app = await sim.control('POST', '/apps', { tenant_key: tenant, name: `${name} bot` });
  const info = await sim.control('GET', `/apps/${app.app_id}`);
  const agent = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: owner.id });
  const [inst] = await t.db
    .insert(larkInstallation)
    .values({ workspaceId: ws.id, agentId: agent.id, appId: app.app_id, appSecretCiphertext: new SecretBox(key).seal(app.app_secret), botOpenId: info.bot_open_id, botUnionId: info.bot_union_id, installerUserId: owner.id })
    .returning();
  worker.hub!.requestSweep();
  await waitFor(async () => (await sim.control('GET', `/apps/${app.app_id}`)).connections === 1, 10_000, 'connected');
  const user = await sim.control('POST', '/users', { tenant_key: tenant, name: 'U' });
  const { open_id } = await sim.control('GET', `/apps/${app.app_id}/open-id?user_id=${user.id}`);
  await t.db.insert(larkUserBinding).values({ workspaceId: ws.id, installationId: inst.id, userId: owner.id, larkOpenId: open_id });
  return { app, user };
}

const stored = async (text: string) => (await t.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM chat_message WHERE content = ${text}`)).rows[0].n;

async function expectAckedOnce(appId: string, messageId: string) {
  const ofMessage = async () => {
    const { deliveries } = await sim.control('GET', `/deliveries?app_id=${appId}`);
    return deliveries.filter((d: { im_message_id: string }) => d.im_message_id === messageId);
  };
  // The row commits a moment before the ACK reaches the simulator.
  await waitFor(async () => (await ofMessage()).every((d: { status: string }) => d.status !== 'pending'), 5_000, 'ACK received');
  const ours = await ofMessage();
  expect(ours).toHaveLength(1);
  expect(ours[0]).toMatchObject({ attempts: 1, status: 'acked' });
  expect(ours[0].acks[0].code).toBe(200);
}

async function answered(chatId: string, text: string) {
  const { messages } = await sim.control('GET', `/chats/${chatId}/messages`);
  return messages.some((m: { sender: { type: string }; content: unknown }) => m.sender.type === 'app' && JSON.stringify(m.content).includes(text));
}

const metric = async (line: RegExp) => Number(line.exec(await (await fetch(`http://127.0.0.1:${worker.opsPort}/metrics`)).text())?.[1] ?? 0);

test('DMs are ACKed on their first delivery, stored once and answered, and the worker counts them', async () => {
  expect(worker.ackThread).not.toBeNull();
  const { app, user } = await connectedBot('Threaded');
  const texts = Array.from({ length: 8 }, (_, i) => `threaded ${i}`);
  const sent: Array<{ message_id: string; chat_id: string }> = [];
  for (const text of texts) sent.push(await sim.control('POST', '/messages', { user_id: user.id, app_id: app.app_id, text }));
  for (const text of texts) await waitFor(async () => (await stored(text)) === 1, 10_000, `stored ${text}`);
  for (const s of sent) await expectAckedOnce(app.app_id, s.message_id);
  for (const text of texts) await waitFor(() => answered(sent[0].chat_id, text), 15_000, `answered ${text}`);
  // Counted in the thread, reported to the worker's /metrics.
  await waitFor(async () => (await metric(/^larkspur_lark_events_received_total (\d+)/m)) >= 8, 5_000, 'events counted');
  await waitFor(async () => (await metric(/^larkspur_lark_acks_total\{code="200"\} (\d+)/m)) >= 8, 5_000, 'ACKs counted');
  expect(await metric(/^larkspur_lark_dispatch_outcomes_total\{outcome="ingested"\} (\d+)/m)).toBeGreaterThanOrEqual(8);
  expect(worker.hub!.stats().eventsReceived).toBeGreaterThanOrEqual(8);
});

test('the thread is up before the first bot connects, and warming it up again waits for nothing', async () => {
  // Started with the worker: a second warm-up finds it loaded and resolves at once, with no thread to wait for.
  let warmed = false;
  const warming = worker.ackThread!.warmUp().then(() => {
    warmed = true;
  });
  await Promise.resolve();
  await Promise.resolve();
  expect(warmed).toBe(true);
  await warming;
});

test('when the ACK thread dies, its bots reconnect into a new one and their next messages are stored and answered', async () => {
  const { app, user } = await connectedBot('Crash');
  await worker.ackThread!.kill();
  // The socket died with the thread; the hub reconnects after its backoff.
  await waitFor(async () => (await sim.control('GET', `/apps/${app.app_id}`)).connections === 1, 15_000, 'reconnected');
  const sent = await sim.control('POST', '/messages', { user_id: user.id, app_id: app.app_id, text: 'after the crash' });
  await waitFor(async () => (await stored('after the crash')) === 1, 10_000, 'stored');
  await expectAckedOnce(app.app_id, sent.message_id);
  await waitFor(() => answered(sent.chat_id, 'after the crash'), 15_000, 'answered');
});
