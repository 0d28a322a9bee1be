import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { createDb, createPool } from '@/server/db/client';
import { larkInstallation } from '@/server/db/schema';
import { listActiveInstallations, type ActiveInstallation } from '@/server/lark/hub/leases';
import { createIngress, type Ingress } from '@/server/lark/inbound/ingress';
import { createTestDatabase, type TestDatabase } from '../db';
import { seedAgent, seedUser, seedWorkspace } from '../seed';
import { textMessageEvent } from './worker-harness';

// A database that refuses connections for a moment (a restart, a failover) must not cost Lark's
// few sends of an event: the ACK path keeps trying to store it while its ACK budget lasts, and only
// answers 500 when the budget is gone. Real refusals: the database stops accepting connections and
// every open one is ended.

const APP_ID = 'cli_outage000001';
let t: TestDatabase;
let databaseName: string;
let installation: ActiveInstallation;
let ingress: Ingress;
const pools: pg.Pool[] = [];
const noCount = { inc: () => {} };

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

async function refuseConnections(): Promise<void> {
  await admin(`ALTER DATABASE ${databaseName} ALLOW_CONNECTIONS false`);
  await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${databaseName}' AND pid <> pg_backend_pid()`);
}

const acceptConnections = () => admin(`ALTER DATABASE ${databaseName} ALLOW_CONNECTIONS true`);

function delivery(messageId: string) {
  const payload = textMessageEvent({ appId: APP_ID, tenantKey: 'tk_outage', messageId, chatId: 'oc_outage', senderOpenId: 'ou_outage', text: 'hello' });
  return { frameType: 'event' as const, deliveryId: `d_${messageId}`, traceId: null, payload: new TextEncoder().encode(payload), receivedAt: Date.now(), signal: new AbortController().signal };
}

async function parkedPayloads(): Promise<string[]> {
  for (;;) {
    try {
      return (await t.pool.query<{ payload: string }>('SELECT payload FROM lark_inbound_backlog ORDER BY id')).rows.map((r) => r.payload);
    } catch {
      // The test's own connections were ended with the others.
    }
  }
}

beforeAll(async () => {
  t = await createTestDatabase();
  databaseName = new URL(t.url).pathname.slice(1);
  const owner = await seedUser(t.db);
  const ws = await seedWorkspace(t.db, owner.id);
  const agent = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: owner.id });
  await t.db.insert(larkInstallation).values({ workspaceId: ws.id, agentId: agent.id, appId: APP_ID, appSecretCiphertext: 'v1:x', botOpenId: 'ou_bot', installerUserId: owner.id });
  [installation] = await listActiveInstallations(t.db);
  const dispatchPool = createPool(t.url, 4);
  const parkingPool = createPool(t.url, 1);
  pools.push(dispatchPool, parkingPool);
  ingress = createIngress({
    db: createDb(dispatchPool),
    parkingDb: createDb(parkingPool),
    listener: t.listener,
    logger: pino({ level: 'silent' }),
    appUrl: 'http://localhost:3000',
    metrics: { eventsReceived: noCount, dispatchOutcomes: noCount, dispatchDrops: noCount },
    concurrency: 4,
  });
});

afterAll(async () => {
  await acceptConnections().catch(() => {});
  for (const pool of pools) await pool.end().catch(() => {});
  await t?.drop();
});

test('an event that arrives while the database refuses connections is ACKed 200 once it is back within the budget', async () => {
  await refuseConnections();
  const verdict = ingress.route(installation, delivery('om_outage_short'));
  // Long enough for the first attempts to be refused, well inside the 2.2 s the ACK path allows.
  await new Promise((r) => setTimeout(r, 700));
  await acceptConnections();
  expect(await verdict).toBe('ok');
  const parked = await parkedPayloads();
  expect(parked).toHaveLength(1);
  expect(parked[0]).toContain('om_outage_short');
});

test('an outage longer than the ACK budget ends in a 500 (Lark redelivers), and nothing is stored', async () => {
  await refuseConnections();
  try {
    // A 500 either way: answered as 'retry', or thrown (the connector answers 500 for a handler that fails).
    expect(await ingress.route(installation, delivery('om_outage_long')).catch(() => 'retry')).toBe('retry');
  } finally {
    await acceptConnections();
  }
  expect((await parkedPayloads()).filter((p) => p.includes('om_outage_long'))).toEqual([]);
});
