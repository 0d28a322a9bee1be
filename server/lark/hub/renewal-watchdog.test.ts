import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Db } from '@/server/db/client';
import { larkInstallation } from '@/server/db/schema';
import { createTestDatabase, type TestDatabase } from '../../../test/db';
import { installSimBot, simIntegration, startSim, waitFor, type Sim } from '../../../test/lark/sim';
import { seedAgent, seedUser, seedWorkspace } from '../../../test/seed';
import { LarkHub } from './hub';

let t: TestDatabase;
let sim: Sim;

beforeAll(async () => {
  t = await createTestDatabase();
  sim = await startSim();
});
afterAll(async () => {
  await sim?.close();
  await t?.drop();
});

test('a renewal that hangs (a half-open database connection) still closes every connection before the lease can run out', async () => {
  const integration = simIntegration(sim);
  const { tenant_key: tenantKey } = await sim.control<{ tenant_key: string }>('POST', '/tenants', { brand: 'feishu', name: 'Hang Co' });
  const owner = await seedUser(t.db);
  const workspaceId = (await seedWorkspace(t.db, owner.id)).id;
  const agent = await seedAgent(t.db, { workspaceId, ownerUserId: owner.id });
  const app = await sim.control<{ app_id: string; app_secret: string }>('POST', '/apps', { tenant_key: tenantKey, name: 'Hanging bot' });
  const { installation } = await installSimBot(t.db, sim, integration.box, { tenantKey, workspaceId, agentId: agent.id, installerUserId: owner.id, app });

  let hang = false;
  const hanging = new Proxy(t.db, {
    get(target, prop, receiver) {
      if (prop === 'execute' && hang) return () => new Promise(() => {});
      return Reflect.get(target, prop, receiver);
    },
  }) as Db;
  const config = { leaseTtlMs: 3000, leaseRenewMs: 1000, sweepMs: 600_000, backoffMinMs: 50, backoffMaxMs: 300, backoffResetAfterMs: 1000, leaseReleaseTimeoutMs: 300, shutdownTimeoutMs: 1000 };
  const hub = new LarkHub({ db: hanging, listener: t.listener, nodeId: 'node-hang', integration, logger: pino({ level: 'silent' }), config, route: async () => 'ok' });
  const stop = new AbortController();
  const done = hub.run(stop.signal);
  const connections = async () => ((await sim.control<{ connections: number }>('GET', `/apps/${app.app_id}`)).connections);
  try {
    await waitFor(async () => (await connections()) === 1, 10_000, 'connection');
    // Let one renewal go through, so the lease's expiry is known, then every statement hangs.
    const renewedBefore = (await t.db.select().from(larkInstallation).where(eq(larkInstallation.id, installation.id)))[0].wsLeaseExpiresAt!.getTime();
    await waitFor(async () => (await t.db.select().from(larkInstallation).where(eq(larkInstallation.id, installation.id)))[0].wsLeaseExpiresAt!.getTime() > renewedBefore, 5000, 'a renewal');
    hang = true;
    await waitFor(async () => (await connections()) === 0, 5000, 'connections closed');
    // Closed while the lease was still ours: no other worker could have connected meanwhile.
    const [row] = await t.db.select().from(larkInstallation).where(eq(larkInstallation.id, installation.id));
    expect(row.wsLeaseToken).toMatch(/^node-hang-g\d+$/);
    expect(row.wsLeaseExpiresAt!.getTime()).toBeGreaterThan(Date.now());
  } finally {
    stop.abort();
    // The loop itself may stay stuck on the hung statement; the test only needs the timers gone.
    await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
  }
});
