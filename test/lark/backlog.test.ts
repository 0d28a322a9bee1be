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

test('a burst beyond the dispatch slots is parked, ACKed at once, and ingested exactly once', async () => {
  const owner = await seedUser(t.db);
  const ws = await seedWorkspace(t.db, owner.id);
  const tenant = (await sim.control('POST', '/tenants', { brand: 'feishu', name: 'Burst' })).tenant_key;
  const app = await sim.control('POST', '/apps', { tenant_key: tenant, name: 'Burst bot' });
  const info = await sim.control('GET', `/apps/${app.app_id}`);
  const agent = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: owner.id });
  const [inst] = await t.db
    .insert(larkInstallation)
    .values({ workspaceId: ws.id, agentId: agent.id, appId: app.app_id, appSecretCiphertext: new SecretBox(key).seal(app.app_secret), botOpenId: info.bot_open_id, botUnionId: info.bot_union_id, installerUserId: owner.id })
    .returning();
  worker.hub!.requestSweep();
  await waitFor(async () => (await sim.control('GET', `/apps/${app.app_id}`)).connections === 1, 10_000, 'connected');
  const users = await Promise.all(Array.from({ length: 4 }, (_, i) => sim.control('POST', '/users', { tenant_key: tenant, name: `U${i}` })));
  for (const u of users) {
    const { open_id } = await sim.control('GET', `/apps/${app.app_id}/open-id?user_id=${u.id}`);
    await t.db.insert(larkUserBinding).values({ workspaceId: ws.id, installationId: inst.id, userId: owner.id, larkOpenId: open_id });
  }
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
