import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Db } from '@/server/db/client';
import { larkInstallation } from '@/server/db/schema';
import { LARK_INSTALLATION_CHANNEL, notify } from '@/server/events';
import type { LarkIntegration } from '@/server/lark/integration';
import { revokeInstallation } from '@/server/lark/install/installations';
import { LarkHub, type ConnectFn, type HubConfig } from '@/server/lark/hub/hub';
import { createTestDatabase, type TestDatabase } from '../db';
import { seedAgent, seedUser, seedWorkspace } from '../seed';
import { captureLogs } from './log-capture';
import { installSimBot, simIntegration, startSim, waitFor, type Sim } from './sim';

let t: TestDatabase;
let sim: Sim;
let integration: LarkIntegration;
let tenantKey: string;
let simUser: { id: string };
let owner: { id: string };
let workspaceId: string;
const running: Array<{ hub: LarkHub; stop: AbortController; done: Promise<void> }> = [];

const fast: HubConfig = {
  leaseTtlMs: 2000,
  leaseRenewMs: 200,
  sweepMs: 300,
  backoffMinMs: 50,
  backoffMaxMs: 300,
  backoffResetAfterMs: 1000,
  leaseReleaseTimeoutMs: 500,
  shutdownTimeoutMs: 3000,
};

beforeAll(async () => {
  t = await createTestDatabase();
  sim = await startSim();
  integration = simIntegration(sim);
  tenantKey = (await sim.control('POST', '/tenants', { brand: 'feishu', name: 'Hub Co' })).tenant_key;
  simUser = await sim.control('POST', '/users', { tenant_key: tenantKey, name: 'Han' });
  owner = await seedUser(t.db);
  workspaceId = (await seedWorkspace(t.db, owner.id)).id;
});
afterEach(async () => {
  for (const r of running.splice(0)) {
    r.stop.abort();
    await r.done;
  }
});
afterAll(async () => {
  await sim?.close();
  await t?.drop();
});

async function newSimApp() {
  return sim.control<{ app_id: string; app_secret: string }>('POST', '/apps', { tenant_key: tenantKey, name: `Bot ${randomBytes(2).toString('hex')}` });
}

async function installApp(app?: { app_id: string; app_secret: string }) {
  const agent = await seedAgent(t.db, { workspaceId, ownerUserId: owner.id });
  const bot = await installSimBot(t.db, sim, integration.box!, { tenantKey, workspaceId, agentId: agent.id, installerUserId: owner.id, app: app ?? (await newSimApp()) });
  return { installation: bot.installation, app: { app_id: bot.appId, app_secret: bot.appSecret } };
}

const connections = async (appId: string) => (await sim.control('GET', `/apps/${appId}`)).connections as number;

type Health = { mayHoldLeases: () => boolean; maySeeSiblingsStale: () => boolean };

function startHub(opts: { nodeId?: string; config?: Partial<HubConfig>; connect?: ConnectFn; db?: Db; logger?: ReturnType<typeof captureLogs>['logger']; nodeHealth?: Health } = {}) {
  const hub = new LarkHub({
    db: opts.db ?? t.db,
    listener: t.listener,
    nodeId: opts.nodeId ?? `node-${randomBytes(3).toString('hex')}`,
    integration,
    logger: opts.logger ?? captureLogs().logger,
    config: { ...fast, ...opts.config },
    connect: opts.connect,
    route: async () => 'ok',
    nodeHealth: opts.nodeHealth,
  });
  const stop = new AbortController();
  const done = hub.run(stop.signal);
  const handle = { hub, stop, done };
  running.push(handle);
  return handle;
}

async function leaseOf(id: string) {
  const [row] = await t.db.select().from(larkInstallation).where(eq(larkInstallation.id, id));
  return row;
}

async function revokeAllActive() {
  await t.db.update(larkInstallation).set({ status: 'revoked' }).where(eq(larkInstallation.status, 'active'));
}

describe('hub', () => {
  test('holds the lease, connects, ACKs events with 200 and records the connection state', async () => {
    await revokeAllActive();
    const logs = captureLogs();
    const { installation, app } = await installApp();
    const { hub } = startHub({ nodeId: 'node-a', logger: logs.logger });
    await waitFor(async () => (await connections(app.app_id)) === 1, 10_000, 'connection');
    const lease = await leaseOf(installation.id);
    expect(lease.wsLeaseToken).toMatch(/^node-a-g\d+$/);
    await waitFor(async () => (await leaseOf(installation.id)).connectionState === 'connected', 5000, 'connected state');

    const sent = await sim.control('POST', '/messages', { user_id: simUser.id, app_id: app.app_id, text: 'hello hub' });
    const delivery = await waitFor(async () => {
      const { deliveries } = await sim.control('GET', `/deliveries?app_id=${app.app_id}`);
      return deliveries.find((d: { message_id: string; status: string }) => d.status === 'acked');
    }, 10_000, 'ack');
    expect(delivery.acks[0].code).toBe(200);
    expect(sent.message_id).toBeTruthy();
    expect(hub.stats().eventsReceived).toBe(1);
    await waitFor(async () => (await leaseOf(installation.id)).lastEventAt !== null, 5000, 'last event time');
    // Secrets never reach the logs: the app secret, and the bootstrap URL's ticket.
    expect(logs.text()).not.toContain(app.app_secret);
    expect(logs.text()).not.toMatch(/ticket=/);
    expect(logs.text()).toContain(installation.id);
  });

  test('does not connect while another worker holds a live lease, and takes over once it expires', async () => {
    await revokeAllActive();
    const { installation, app } = await installApp();
    await t.db
      .update(larkInstallation)
      .set({ wsLeaseToken: 'other-node-g1', wsLeaseExpiresAt: sql`now() + interval '1500 milliseconds'` })
      .where(eq(larkInstallation.id, installation.id));
    startHub();
    await new Promise((r) => setTimeout(r, 800));
    expect(await connections(app.app_id)).toBe(0);
    expect((await leaseOf(installation.id)).wsLeaseToken).toBe('other-node-g1');
    await waitFor(async () => (await connections(app.app_id)) === 1, 10_000, 'takeover after expiry');
    expect((await leaseOf(installation.id)).wsLeaseToken).not.toBe('other-node-g1');
  });

  test("a restarted worker with the same node id takes its own leftover lease back at once", async () => {
    await revokeAllActive();
    const { installation, app } = await installApp();
    await t.db
      .update(larkInstallation)
      .set({ wsLeaseToken: 'node-same-g7', wsLeaseExpiresAt: sql`now() + interval '5 minutes'` })
      .where(eq(larkInstallation.id, installation.id));
    startHub({ nodeId: 'node-same' });
    await waitFor(async () => (await connections(app.app_id)) === 1, 5000, 'reconnect without waiting for the TTL');
    expect((await leaseOf(installation.id)).wsLeaseToken).toMatch(/^node-same-g\d+$/);
    expect((await leaseOf(installation.id)).wsLeaseToken).not.toBe('node-same-g7');
  });

  test('revocation drops the connection within a second, through NOTIFY (sweep disabled)', async () => {
    await revokeAllActive();
    const { installation, app } = await installApp();
    startHub({ config: { sweepMs: 600_000 } });
    await waitFor(async () => (await connections(app.app_id)) === 1, 10_000, 'connection');
    const started = Date.now();
    await revokeInstallation(t.db, { workspaceId, installationId: installation.id, actor: { userId: owner.id, role: 'owner' } });
    await waitFor(async () => (await connections(app.app_id)) === 0, 3000, 'disconnect after revoke');
    expect(Date.now() - started).toBeLessThan(2500);
    await waitFor(async () => (await leaseOf(installation.id)).wsLeaseToken === null, 10_000, 'lease released');
  });

  test('after its listener connection is terminated, the hub still hears a revoke through NOTIFY (sweep disabled)', async () => {
    await revokeAllActive();
    const { installation, app } = await installApp();
    startHub({ config: { sweepMs: 600_000 } });
    await waitFor(async () => (await connections(app.app_id)) === 1, 10_000, 'connection');
    await t.listener.ready();
    const oldPid = t.listener.backendPid();
    await t.pool.query('SELECT pg_terminate_backend($1)', [oldPid]);
    await waitFor(async () => t.listener.getState() === 'listening' && t.listener.backendPid() !== oldPid, 10_000, 'listener back');
    const started = Date.now();
    await revokeInstallation(t.db, { workspaceId, installationId: installation.id, actor: { userId: owner.id, role: 'owner' } });
    await waitFor(async () => (await connections(app.app_id)) === 0, 3000, 'disconnect after revoke');
    expect(Date.now() - started).toBeLessThan(2500);
  });

  test('a credentials rotation restarts on the new app and the stale release cannot clear the successor lease', async () => {
    await revokeAllActive();
    const { installation, app } = await installApp();
    startHub({ nodeId: 'node-r' });
    await waitFor(async () => (await connections(app.app_id)) === 1, 10_000, 'first connection');
    const firstToken = (await leaseOf(installation.id)).wsLeaseToken;
    const next = await newSimApp();
    const info = await sim.control('GET', `/apps/${next.app_id}`);
    await t.db.transaction(async (tx) => {
      await tx
        .update(larkInstallation)
        .set({ appId: next.app_id, appSecretCiphertext: integration.box!.seal(next.app_secret), botOpenId: info.bot_open_id, botUnionId: info.bot_union_id })
        .where(eq(larkInstallation.id, installation.id));
      await notify(tx, LARK_INSTALLATION_CHANNEL, installation.id);
    });
    await waitFor(async () => (await connections(next.app_id)) === 1 && (await connections(app.app_id)) === 0, 10_000, 'rotation');
    // Let the old supervisor's release run, then the successor must still hold the lease.
    await new Promise((r) => setTimeout(r, 600));
    const lease = await leaseOf(installation.id);
    expect(lease.wsLeaseToken).toMatch(/^node-r-g\d+$/);
    expect(lease.wsLeaseToken).not.toBe(firstToken);
    expect(await connections(next.app_id)).toBe(1);
  });

  test('an unchanged row is not restarted by sweeps', async () => {
    await revokeAllActive();
    await installApp();
    let starts = 0;
    const { hub } = startHub({
      config: { sweepMs: 50 },
      connect: async (_input, signal) => {
        starts += 1;
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        return { reason: 'aborted', clientConfig: { pingIntervalMs: 1, reconnectCount: -1, reconnectIntervalMs: 1, reconnectNonceMs: 1 }, connectedAt: null, endedAt: Date.now(), eventsHandled: 0 } as never;
      },
    });
    await waitFor(async () => starts === 1, 5000, 'start');
    await new Promise((r) => setTimeout(r, 500));
    expect(starts).toBe(1);
    expect(hub.heldInstallations()).toHaveLength(1);
  });

  test('lease loss cancels the connector at once', async () => {
    await revokeAllActive();
    const { installation, app } = await installApp();
    const { hub } = startHub({ config: { sweepMs: 600_000 } });
    await waitFor(async () => (await connections(app.app_id)) === 1, 10_000, 'connection');
    await t.db
      .update(larkInstallation)
      .set({ wsLeaseToken: 'thief-g1', wsLeaseExpiresAt: sql`now() + interval '1 minute'` })
      .where(eq(larkInstallation.id, installation.id));
    await waitFor(async () => (await connections(app.app_id)) === 0, 3000, 'connector cancelled');
    expect(hub.heldInstallations()).not.toContain(installation.id);
    expect((await leaseOf(installation.id)).wsLeaseToken).toBe('thief-g1');
  });

  test('connector failures back off instead of spinning', async () => {
    await revokeAllActive();
    await installApp();
    let attempts = 0;
    startHub({
      config: { backoffMinMs: 100, backoffMaxMs: 400 },
      connect: async () => {
        attempts += 1;
        return { reason: 'dial_failed', retryable: true, detail: 'boom', clientConfig: {} as never, connectedAt: null, endedAt: Date.now(), eventsHandled: 0 };
      },
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(attempts).toBeLessThan(15);
  });

  test('a final handshake refusal (403, or 514 too many connections) waits the long backoff, not the short one', async () => {
    await revokeAllActive();
    await installApp();
    let attempts = 0;
    startHub({
      config: { backoffMinMs: 50, backoffMaxMs: 5000 },
      connect: async () => {
        attempts += 1;
        return { reason: 'dial_failed', retryable: false, detail: 'handshake 403', clientConfig: {} as never, connectedAt: null, endedAt: Date.now(), eventsHandled: 0 };
      },
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect(attempts).toBe(1);
  });

  test('when renewals keep failing, every connection closes before the lease can run out', async () => {
    await revokeAllActive();
    const { installation, app } = await installApp();
    let databaseDown = false;
    const flaky = new Proxy(t.db, {
      get(target, prop, receiver) {
        if (prop === 'execute' && databaseDown) return () => Promise.reject(new Error('connection terminated unexpectedly'));
        return Reflect.get(target, prop, receiver);
      },
    }) as Db;
    startHub({ db: flaky, config: { leaseTtlMs: 4000, leaseRenewMs: 2000, sweepMs: 600_000 } });
    await waitFor(async () => (await connections(app.app_id)) === 1, 10_000, 'connection');
    databaseDown = true;
    await waitFor(async () => (await connections(app.app_id)) === 0, 10_000, 'connections closed');
    // Closed while the lease was still ours: no other worker could have connected meanwhile.
    const lease = await leaseOf(installation.id);
    expect(lease.wsLeaseExpiresAt!.getTime()).toBeGreaterThan(Date.now());
    databaseDown = false;
  });

  test("a dead worker's lease is taken over when it runs out, without waiting for a periodic sweep", async () => {
    await revokeAllActive();
    const { installation, app } = await installApp();
    await t.db
      .update(larkInstallation)
      .set({ wsLeaseToken: 'dead-node-g1', wsLeaseExpiresAt: sql`now() + interval '1500 milliseconds'` })
      .where(eq(larkInstallation.id, installation.id));
    startHub({ nodeId: 'node-heir', config: { sweepMs: 600_000 } });
    await waitFor(async () => (await connections(app.app_id)) === 1, 8000, 'takeover after expiry');
    expect((await leaseOf(installation.id)).wsLeaseToken).toMatch(/^node-heir-g\d+$/);
  });

  test("a lease whose worker stopped heartbeating is taken over before the lease runs out; a heartbeating one is respected", async () => {
    await revokeAllActive();
    const gone = await installApp();
    const alive = await installApp();
    await t.db.execute(sql`INSERT INTO worker_node (node_id, boot_id, heartbeat_at) VALUES
      ('node-gone', gen_random_uuid(), now() - interval '1 minute'), ('node-alive', gen_random_uuid(), now())
      ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`);
    for (const [app, token] of [[gone, 'node-gone-g1'], [alive, 'node-alive-g1']] as const) {
      await t.db
        .update(larkInstallation)
        .set({ wsLeaseToken: token, wsLeaseExpiresAt: sql`now() + interval '5 minutes'` })
        .where(eq(larkInstallation.id, app.installation.id));
    }
    startHub({ nodeId: 'node-heir', config: { sweepMs: 600_000 } });
    await waitFor(async () => (await connections(gone.app.app_id)) === 1, 8000, 'takeover from a stale worker');
    expect((await leaseOf(gone.installation.id)).wsLeaseToken).toMatch(/^node-heir-g\d+$/);
    expect((await leaseOf(alive.installation.id)).wsLeaseToken).toBe('node-alive-g1');
    expect(await connections(alive.app.app_id)).toBe(0);
  });

  test('right after a database outage, a sibling whose heartbeat is as stale as ours is not taken over; after a steady window it is', async () => {
    await revokeAllActive();
    const sibling = await installApp();
    await t.db.execute(sql`INSERT INTO worker_node (node_id, boot_id, heartbeat_at) VALUES ('node-late', gen_random_uuid(), now() - interval '1 minute')
      ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`);
    await t.db
      .update(larkInstallation)
      .set({ wsLeaseToken: 'node-late-g1', wsLeaseExpiresAt: sql`now() + interval '5 minutes'` })
      .where(eq(larkInstallation.id, sibling.installation.id));
    let steady = false;
    const { hub } = startHub({ nodeId: 'node-back', nodeHealth: { mayHoldLeases: () => true, maySeeSiblingsStale: () => steady } });
    // Several sweeps and stale-holder checks go by.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await connections(sibling.app.app_id)).toBe(0);
    expect((await leaseOf(sibling.installation.id)).wsLeaseToken).toBe('node-late-g1');
    steady = true;
    hub.requestSweep();
    await waitFor(async () => (await connections(sibling.app.app_id)) === 1, 8000, 'takeover once steady');
    expect((await leaseOf(sibling.installation.id)).wsLeaseToken).toMatch(/^node-back-g\d+$/);
  });

  test('a fenced worker connects nobody, not even its own bots, until its heartbeat goes through again', async () => {
    await revokeAllActive();
    const own = await installApp();
    await t.db
      .update(larkInstallation)
      .set({ wsLeaseToken: 'node-fenced-g1', wsLeaseExpiresAt: sql`now() + interval '5 minutes'` })
      .where(eq(larkInstallation.id, own.installation.id));
    const free = await installApp();
    let fenced = true;
    const { hub } = startHub({ nodeId: 'node-fenced', nodeHealth: { mayHoldLeases: () => !fenced, maySeeSiblingsStale: () => true } });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await connections(own.app.app_id)).toBe(0);
    expect(await connections(free.app.app_id)).toBe(0);
    fenced = false;
    hub.requestSweep();
    await waitFor(async () => (await connections(own.app.app_id)) === 1 && (await connections(free.app.app_id)) === 1, 8000, 'both connected after recovery');
  });

  test('a released lease is taken over at once by another worker (sweeps disabled)', async () => {
    await revokeAllActive();
    const { installation, app } = await installApp();
    const first = startHub({ nodeId: 'node-leaving', config: { sweepMs: 600_000 } });
    await waitFor(async () => (await connections(app.app_id)) === 1, 10_000, 'first connection');
    startHub({ nodeId: 'node-staying', config: { sweepMs: 600_000 } });
    first.stop.abort();
    await first.done;
    await waitFor(async () => (await leaseOf(installation.id)).wsLeaseToken?.startsWith('node-staying-g') ?? false, 3000, 'takeover after release');
    await waitFor(async () => (await connections(app.app_id)) === 1, 5000, 'second connection');
  });

  test('a hub without a route is refused instead of answering 200 and dropping events', () => {
    expect(() => new LarkHub({ db: t.db, listener: t.listener, nodeId: 'n', integration, logger: captureLogs().logger, config: fast } as never)).toThrow(/route/);
  });

  test('renewing many leases is one statement per tick', async () => {
    await revokeAllActive();
    const apps = await Promise.all(Array.from({ length: 5 }, () => installApp()));
    let executes = 0;
    const counting = new Proxy(t.db, {
      get(target, prop, receiver) {
        if (prop === 'execute') return (...args: unknown[]) => ((executes += 1), (target.execute as (...a: unknown[]) => unknown).apply(target, args));
        return Reflect.get(target, prop, receiver);
      },
    }) as Db;
    const { hub } = startHub({ db: counting, config: { leaseRenewMs: 600_000, sweepMs: 600_000 } });
    await waitFor(async () => hub.heldInstallations().length === 5, 10_000, 'all held');
    await waitFor(async () => (await Promise.all(apps.map((a) => connections(a.app.app_id)))).every((c) => c === 1), 10_000, 'all connected');
    executes = 0;
    await hub.renew();
    expect(executes).toBe(1);
  });

  test('two workers hold each connection exactly once, and one takes over when the other stops', async () => {
    await revokeAllActive();
    const apps = await Promise.all(Array.from({ length: 6 }, () => installApp()));
    const a = startHub({ nodeId: 'node-x' });
    const b = startHub({ nodeId: 'node-y' });
    await waitFor(async () => a.hub.heldInstallations().length + b.hub.heldInstallations().length === 6, 10_000, 'all held');
    await waitFor(async () => (await Promise.all(apps.map((x) => connections(x.app.app_id)))).every((c) => c === 1), 10_000, 'one connection each');
    const heldA = new Set(a.hub.heldInstallations());
    expect(b.hub.heldInstallations().some((id) => heldA.has(id))).toBe(false);
    a.stop.abort();
    await a.done;
    await waitFor(async () => b.hub.heldInstallations().length === 6, 10_000, 'takeover');
    await waitFor(async () => (await Promise.all(apps.map((x) => connections(x.app.app_id)))).every((c) => c === 1), 10_000, 'still one connection each');
  });

  test('shutdown is bounded even when a connector ignores the signal, and leases are released', async () => {
    await revokeAllActive();
    const { installation } = await installApp();
    const { hub, stop, done } = startHub({
      config: { shutdownTimeoutMs: 300 },
      connect: () => new Promise(() => {}),
    });
    await waitFor(async () => hub.heldInstallations().length === 1, 5000, 'held');
    const started = Date.now();
    stop.abort();
    await done;
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await leaseOf(installation.id)).wsLeaseToken).toBeNull();
  });

  test('a frozen release is bounded by its timeout; the lease then simply expires', async () => {
    await revokeAllActive();
    const { installation } = await installApp();
    const frozenRelease = new Proxy(t.db, {
      get(target, prop, receiver) {
        if (prop === 'execute') {
          return (query: unknown) => {
            const text = JSON.stringify(query);
            if (text.includes('ws_lease_token = NULL')) return new Promise(() => {});
            return (target.execute as (q: unknown) => unknown).call(target, query);
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    }) as Db;
    const { hub, stop, done } = startHub({ db: frozenRelease, config: { leaseReleaseTimeoutMs: 200 } });
    await waitFor(async () => hub.heldInstallations().length === 1, 5000, 'held');
    const started = Date.now();
    stop.abort();
    await done;
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await leaseOf(installation.id)).wsLeaseToken).not.toBeNull();
  });
});
