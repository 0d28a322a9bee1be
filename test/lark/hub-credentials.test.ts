import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { larkInstallation } from '@/server/db/schema';
import { LARK_INSTALLATION_CHANNEL, notify } from '@/server/events';
import { LarkHub, type ConnectFn, type ConnectInput, type HubConfig } from '@/server/lark/hub/hub';
import type { LarkIntegration } from '@/server/lark/integration';
import type { ConnectorExit } from '@/server/lark/protocol';
import { createTestDatabase, type TestDatabase } from '../db';
import { seedAgent, seedUser, seedWorkspace } from '../seed';
import { captureLogs } from './log-capture';
import { installSimBot, simIntegration, startSim, waitFor, type Sim } from './sim';

// How the hub treats an installation's credentials: what restarts a connection, and where the
// plain app secret may live.

let t: TestDatabase;
let sim: Sim;
let integration: LarkIntegration;
let tenantKey: string;
let owner: { id: string };
let workspaceId: string;
const running: Array<{ stop: AbortController; done: Promise<void> }> = [];

const config: HubConfig = {
  leaseTtlMs: 2000,
  leaseRenewMs: 200,
  // Only NOTIFYs and explicit sweeps react, so a test sees exactly the restarts it caused.
  sweepMs: 600_000,
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
  tenantKey = (await sim.control('POST', '/tenants', { brand: 'feishu', name: 'Credentials Co' })).tenant_key;
  owner = await seedUser(t.db);
  workspaceId = (await seedWorkspace(t.db, owner.id)).id;
});

afterEach(async () => {
  for (const r of running.splice(0)) {
    r.stop.abort();
    await r.done;
  }
  await t.db.update(larkInstallation).set({ status: 'revoked' }).where(eq(larkInstallation.status, 'active'));
});

afterAll(async () => {
  await sim?.close();
  await t?.drop();
});

async function install() {
  const agent = await seedAgent(t.db, { workspaceId, ownerUserId: owner.id });
  const bot = await installSimBot(t.db, sim, integration.box!, { tenantKey, workspaceId, agentId: agent.id, installerUserId: owner.id });
  return { row: bot.installation, app: { app_id: bot.appId, app_secret: bot.appSecret } };
}

function startHub(connect?: ConnectFn) {
  const hub = new LarkHub({
    db: t.db,
    listener: t.listener,
    nodeId: `node-${randomBytes(3).toString('hex')}`,
    integration,
    logger: captureLogs().logger,
    config,
    connect,
    route: async () => 'ok',
  });
  const stop = new AbortController();
  const done = hub.run(stop.signal);
  running.push({ stop, done });
  return hub;
}

/** A connection that records what it was opened with and stays up until the hub cancels it. */
function recordingConnect() {
  const opened: Array<{ input: ConnectInput; signal: AbortSignal }> = [];
  const connect: ConnectFn = (input, signal) => {
    opened.push({ input, signal });
    return new Promise<ConnectorExit>((resolve) =>
      signal.addEventListener(
        'abort',
        () => resolve({ reason: 'aborted', clientConfig: { pingIntervalMs: 120_000, reconnectCount: -1, reconnectIntervalMs: 120_000, reconnectNonceMs: 30_000 }, connectedAt: null, endedAt: Date.now(), eventsHandled: 0 }),
        { once: true },
      ),
    );
  };
  return { opened, connect };
}

/** Every string and byte buffer reachable from `root` through properties, arrays, Maps and Sets. */
function reachableText(root: unknown, skip: ReadonlySet<unknown>): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  const visit = (value: unknown) => {
    if (typeof value === 'string') return void out.push(value);
    if (value === null || typeof value !== 'object' || seen.has(value) || skip.has(value)) return;
    seen.add(value);
    if (value instanceof Uint8Array) return void out.push(Buffer.from(value).toString('latin1'));
    if (value instanceof Map) {
      for (const [k, v] of value) {
        visit(k);
        visit(v);
      }
    } else if (value instanceof Set) {
      for (const v of value) visit(v);
    }
    for (const key of Reflect.ownKeys(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (descriptor && 'value' in descriptor) visit(descriptor.value);
    }
  };
  visit(root);
  return out;
}

describe('connection fingerprint', () => {
  test('changing only the region restarts the connection, on the other brand’s host', async () => {
    const { row } = await install();
    const { opened, connect } = recordingConnect();
    startHub(connect);
    await waitFor(async () => opened.length === 1, 10_000, 'first connection');
    expect(opened[0].input.openBaseUrl).toBe(`${sim.url}/feishu`);

    await t.listener.ready();
    await t.db.transaction(async (tx) => {
      await tx.update(larkInstallation).set({ region: 'lark' }).where(eq(larkInstallation.id, row.id));
      await notify(tx, LARK_INSTALLATION_CHANNEL, row.id);
    });
    await waitFor(async () => opened.length === 2, 5000, 'a connection on the new region');
    expect(opened[1].input.openBaseUrl).toBe(`${sim.url}/lark`);
    expect(opened[1].input.installation).toMatchObject({ id: row.id, appId: row.appId, region: 'lark' });
    expect(opened[0].signal.aborted).toBe(true);
    expect(opened[1].signal.aborted).toBe(false);
  });

  test('a NOTIFY without a credentials change restarts nothing', async () => {
    const { row } = await install();
    const { opened, connect } = recordingConnect();
    const hub = startHub(connect);
    await waitFor(async () => opened.length === 1, 10_000, 'first connection');
    await t.db.transaction(async (tx) => notify(tx, LARK_INSTALLATION_CHANNEL, row.id));
    await hub.sweep();
    await new Promise((r) => setTimeout(r, 300));
    expect(opened).toHaveLength(1);
  });
});

describe('the plain app secret', () => {
  test('is held by the connection while it runs, never by the hub’s long-lived state', async () => {
    const { row, app } = await install();
    const hub = startHub();
    await waitFor(async () => (await sim.control('GET', `/apps/${app.app_id}`)).connections === 1, 10_000, 'connected');
    await waitFor(async () => (await t.db.select().from(larkInstallation).where(eq(larkInstallation.id, row.id)))[0].connectionState === 'connected', 5000, 'connected state');
    // The caller's own dependencies (database, logger, the key box) are not the hub's state.
    const deps = hub as unknown as { opts: object };
    const text = reachableText(hub, new Set([deps.opts]));
    // The walk does reach the running supervisor: the ciphertext it connects with is there.
    expect(text).toContain(row.appSecretCiphertext);
    expect(text.filter((s) => s.includes(app.app_secret))).toEqual([]);

    // Nor between connections: the platform drops the socket, the supervisor backs off and reconnects.
    await sim.control('POST', '/faults', { kind: 'drop_connections', app_id: app.app_id });
    await sim.control('DELETE', '/faults');
    for (const phase of ['backoff', 'reconnected']) {
      if (phase === 'reconnected') await waitFor(async () => (await sim.control('GET', `/apps/${app.app_id}`)).connections === 1, 10_000, 'reconnected');
      const again = reachableText(hub, new Set([deps.opts]));
      expect(again, phase).toContain(row.appSecretCiphertext);
      expect(again.filter((s) => s.includes(app.app_secret)), phase).toEqual([]);
    }
  });
});
