import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Pool, PoolClient } from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { SecretBox } from '@/server/crypto/secretbox';
import { larkInstallation, larkUserBinding } from '@/server/db/schema';
import { parseEnv, resetEnvForTests } from '@/server/env';
import { startWorker, type RunningWorker } from '@/worker/worker';
import { useTestDatabase, type TestDatabase } from '../db';
import { seedAgent, seedUser, seedWorkspace } from '../seed';
import { startSim, waitFor, type Sim } from './sim';

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
    // One dispatch at a time: a burst must overflow into the backlog.
    LARK_DISPATCH_CONCURRENCY: '1',
    WORKER_POLL_INTERVAL_MS: '100',
    // A small shared pool, so a test can take every connection of it.
    WORKER_DB_POOL_SIZE: '4',
  };
  resetEnvForTests();
  worker = await startWorker({
    config: parseEnv(envSource),
    integration: { configured: true, box: new SecretBox(key), hosts: { openBaseUrl: envSource.LARK_OPEN_BASE_URL }, httpTimeoutMs: 3000 },
    nodeId: 'backlog-test',
    logger: pino({ level: 'silent' }),
    hubConfig: { leaseRenewMs: 300, sweepMs: 300 },
    opsPort: 0,
  });
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await sim?.close();
  await t?.drop();
});

/** A connected bot with `userCount` Lark users linked to the workspace owner. */
async function connectedBot(name: string, userCount: number) {
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
  const users = await Promise.all(Array.from({ length: userCount }, (_, i) => sim.control('POST', '/users', { tenant_key: tenant, name: `U${i}` })));
  for (const u of users) {
    const { open_id } = await sim.control('GET', `/apps/${app.app_id}/open-id?user_id=${u.id}`);
    await t.db.insert(larkUserBinding).values({ workspaceId: ws.id, installationId: inst.id, userId: owner.id, larkOpenId: open_id });
  }
  return { app, users };
}

test('a burst beyond the dispatch slots is parked, ACKed at once, and ingested exactly once', async () => {
  const { app, users } = await connectedBot('Burst', 4);
  const sent = await Promise.all(Array.from({ length: 40 }, (_, i) => sim.control('POST', '/messages', { user_id: users[i % 4].id, app_id: app.app_id, text: `burst ${i}` })));
  await waitFor(async () => {
    const rows = await t.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM chat_message WHERE content LIKE 'burst %'`);
    return rows.rows[0].n === 40;
  }, 30_000, 'all ingested');
  const { deliveries } = await sim.control('GET', `/deliveries?app_id=${app.app_id}`);
  const ours = deliveries.filter((d: { im_message_id: string }) => sent.some((s) => s.message_id === d.im_message_id));
  expect(ours).toHaveLength(40);
  // Every event got its 200 on the first delivery: nothing waited on Lark's redelivery.
  expect(ours.every((d: { attempts: number; acks: Array<{ code: number }> }) => d.attempts === 1 && d.acks[0].code === 200)).toBe(true);
  const distinct = await t.db.execute<{ n: number }>(sql`SELECT count(DISTINCT content)::int AS n FROM chat_message WHERE content LIKE 'burst %'`);
  expect(distinct.rows[0].n).toBe(40);
  await waitFor(async () => (await t.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM lark_inbound_backlog`)).rows[0].n === 0, 10_000, 'backlog drained');
  const metrics = await (await fetch(`http://127.0.0.1:${worker.opsPort}/metrics`)).text();
  const parked = Number(/^larkspur_lark_dispatch_outcomes_total\{outcome="parked"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
  expect(parked).toBeGreaterThan(0);
});

test('with every connection of the shared pool taken, a DM is still ACKed at once and stored; it is answered once they are back', async () => {
  const { app, users } = await connectedBot('Busy', 1);
  const shared = (worker.db as unknown as { $client: Pool }).$client;
  const held: PoolClient[] = [];
  for (let i = 0; i < 4; i++) held.push(await shared.connect());
  let sent: { message_id: string; chat_id: string };
  try {
    expect(shared.totalCount).toBe(4);
    sent = await sim.control('POST', '/messages', { user_id: users[0].id, app_id: app.app_id, text: 'while the pool is busy' });
    await waitFor(async () => {
      const rows = await t.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM chat_message WHERE content = 'while the pool is busy'`);
      return rows.rows[0].n === 1;
    }, 10_000, 'stored');
    const { deliveries } = await sim.control('GET', `/deliveries?app_id=${app.app_id}`);
    const ours = deliveries.find((d: { im_message_id: string }) => d.im_message_id === sent.message_id);
    expect(ours).toMatchObject({ attempts: 1, status: 'acked' });
    expect(ours.acks[0].code).toBe(200);
  } finally {
    for (const c of held) c.release();
  }
  await waitFor(async () => {
    const { messages } = await sim.control('GET', `/chats/${sent.chat_id}/messages`);
    return messages.some((m: { sender: { type: string }; content: unknown }) => m.sender.type === 'app' && JSON.stringify(m.content).includes('while the pool is busy'));
  }, 15_000, 'answered');
});

test('with every dispatch connection taken, events are parked and ACKed at once; behind a parked event, another chat joins the backlog instead of waiting for a slot', async () => {
  const { app, users } = await connectedBot('Parking', 2);
  const dispatchPool = (worker.dispatchDb as unknown as { $client: Pool }).$client;
  const held: PoolClient[] = [];
  for (let i = 0; i < dispatchPool.options.max; i++) held.push(await dispatchPool.connect());
  const firstAck = async (messageId: string) =>
    waitFor(async () => {
      const { deliveries } = await sim.control('GET', `/deliveries?app_id=${app.app_id}`);
      const ours = deliveries.find((d: { im_message_id: string }) => d.im_message_id === messageId);
      return ours?.acks.length > 0 ? (ours as { attempts: number; acks: Array<{ code: number; biz_rt: string }> }) : false;
    }, 10_000, `the ACK of ${messageId}`);
  const texts = ['parking first', 'parking second', 'parking other chat'];
  const sent: Array<{ message_id: string; chat_id: string }> = [];
  try {
    // The one slot: this dispatch waits for a connection of the full pool.
    sent.push(await sim.control('POST', '/messages', { user_id: users[0].id, app_id: app.app_id, text: texts[0] }));
    await waitFor(async () => dispatchPool.waitingCount > 0, 5_000, 'the first dispatch waiting for a connection');
    // No slot within its wait: parked on the parking connection, not behind the dispatch pool.
    sent.push(await sim.control('POST', '/messages', { user_id: users[0].id, app_id: app.app_id, text: texts[1] }));
    const second = await firstAck(sent[1].message_id);
    expect(second.acks[0].code).toBe(200);
    // Another chat, while an event is parked: it goes behind it at once, without the slot's wait.
    sent.push(await sim.control('POST', '/messages', { user_id: users[1].id, app_id: app.app_id, text: texts[2] }));
    const third = await firstAck(sent[2].message_id);
    expect(third.acks[0].code).toBe(200);
    expect(Number(third.acks[0].biz_rt)).toBeLessThan(250);
    const backlog = await t.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM lark_inbound_backlog`);
    expect(backlog.rows[0].n).toBe(2);
  } finally {
    for (const c of held) c.release();
  }
  // Once the connections are back, each is stored once, in the order it arrived.
  await waitFor(async () => (await t.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM lark_inbound_backlog`)).rows[0].n === 0, 15_000, 'backlog drained');
  const stored = await t.db.execute<{ content: string }>(sql`SELECT content FROM chat_message WHERE role = 'user' AND content LIKE 'parking %' ORDER BY created_at, id`);
  expect(stored.rows.map((r) => r.content)).toEqual(texts);
  for (const s of sent.slice(1)) expect((await firstAck(s.message_id)).attempts).toBe(1);
});
