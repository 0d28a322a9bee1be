import { afterAll, beforeAll, expect, test } from 'vitest';
import { larkInstallation } from '@/server/db/schema';
import { parkInboundEvent } from '@/server/lark/inbound/backlog';
import { createTestDatabase, type TestDatabase } from '../db';
import { seedAgent, seedUser, seedWorkspace } from '../seed';

// Events parked at the same moment share one statement, and each gets the id of its own row.

let t: TestDatabase;
let installationId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  const owner = await seedUser(t.db);
  const ws = await seedWorkspace(t.db, owner.id);
  const agent = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: owner.id });
  const [inst] = await t.db
    .insert(larkInstallation)
    .values({ workspaceId: ws.id, agentId: agent.id, appId: 'cli_parking00001', appSecretCiphertext: 'v1:x', botOpenId: 'ou_bot', installerUserId: owner.id })
    .returning();
  installationId = inst.id;
});

afterAll(async () => {
  await t?.drop();
});

test('fifty events parked at once each get the id of their own row', async () => {
  const payloads = Array.from({ length: 50 }, (_, i) => JSON.stringify({ event: i }));
  const ids = await Promise.all(payloads.map((payload) => parkInboundEvent(t.db, { installationId, appId: 'cli_parking00001', payload })));
  expect(new Set(ids).size).toBe(50);
  const rows = await t.pool.query<{ id: string; payload: string }>(`SELECT id, payload FROM lark_inbound_backlog WHERE id = ANY($1::bigint[])`, [ids]);
  const payloadOf = new Map(rows.rows.map((r) => [Number(r.id), r.payload]));
  expect(ids.map((id) => payloadOf.get(id))).toEqual(payloads);
  // Parked in one go: the ids are consecutive.
  expect(Math.max(...ids) - Math.min(...ids)).toBe(49);
});

test('one event the database refuses fails alone', async () => {
  const results = await Promise.allSettled([
    parkInboundEvent(t.db, { installationId, appId: 'cli_parking00001', payload: 'kept' }),
    parkInboundEvent(t.db, { installationId: '00000000-0000-4000-8000-000000000000', appId: 'cli_parking00001', payload: 'no such bot' }),
  ]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
});
