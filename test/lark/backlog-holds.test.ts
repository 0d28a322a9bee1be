import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ConcurrencyGate } from '@/server/async/concurrency-gate';
import { larkInstallation } from '@/server/db/schema';
import { BACKLOG_HOLD_RENEW_MS, BACKLOG_HOLD_SECONDS, parkInboundEvent } from '@/server/lark/inbound/backlog';
import { runBacklogProcessor, type BacklogProcessorOptions } from '@/server/lark/inbound/backlog-processor';
import { STALE_CLAIM_SECONDS } from '@/server/lark/inbound/dedup';
import { createTestDatabase, type TestDatabase } from '../db';
import { seedAgent, seedUser, seedWorkspace } from '../seed';
import { waitFor } from './sim';

let t: TestDatabase;
let installationId: string;
beforeAll(async () => {
  t = await createTestDatabase();
  const owner = await seedUser(t.db);
  const workspaceId = (await seedWorkspace(t.db, owner.id)).id;
  const agent = await seedAgent(t.db, { workspaceId, ownerUserId: owner.id });
  [{ id: installationId }] = await t.db
    .insert(larkInstallation)
    .values({ workspaceId, agentId: agent.id, appId: `cli_${randomBytes(4).toString('hex')}`, appSecretCiphertext: 'x', botOpenId: 'ou_bot', installerUserId: owner.id })
    .returning({ id: larkInstallation.id });
});
afterAll(async () => t?.drop());

const DISPATCHED = { ack: 200, result: { outcome: 'dropped', reason: 'duplicate' } } as const;

/** A processor on the test database with two slots and a short tick; `options` names its dispatch and anything else it changes. */
function startProcessor(options: Pick<BacklogProcessorOptions, 'dispatch'> & Partial<BacklogProcessorOptions>, signal: AbortSignal) {
  return runBacklogProcessor({ db: t.db, listener: t.listener, gate: new ConcurrencyGate(2), logger: pino({ level: 'silent' }), parked: new Set(), tickMs: 50, ...options }, signal);
}

const holdOf = async () => (await t.pool.query(`SELECT claimed_until FROM lark_inbound_backlog`)).rows[0]?.claimed_until as Date | undefined;

test("a dead processor's parked events come back within seconds: short holds, renewed while the work goes on", async () => {
  // What a dead holder blocks: its parked event's hold and its dedup claim.
  expect(BACKLOG_HOLD_SECONDS).toBeLessThanOrEqual(20);
  expect(STALE_CLAIM_SECONDS).toBeLessThanOrEqual(20);
  await parkInboundEvent(t.db, { installationId, appId: 'cli_x', payload: '{}' });
  let release!: () => void;
  const dispatching = new Promise<void>((resolve) => (release = resolve));
  const stop = new AbortController();
  const processor = startProcessor(
    {
      // A dispatch that outlasts a renewal period.
      dispatch: async () => {
        await dispatching;
        return DISPATCHED;
      },
    },
    stop.signal,
  );
  const first = await waitFor(async () => holdOf(), 5000, 'claimed');
  await new Promise((r) => setTimeout(r, BACKLOG_HOLD_RENEW_MS + 1000));
  const renewed = await holdOf();
  expect(renewed!.getTime()).toBeGreaterThan(first.getTime());
  release();
  await waitFor(async () => (await t.pool.query(`SELECT count(*)::int AS n FROM lark_inbound_backlog`)).rows[0].n === 0, 5000, 'done');
  stop.abort();
  await processor;
});

test('one slow dispatch does not hold back the events claimed after it: claims keep the slots fed', async () => {
  const ids: number[] = [];
  for (let i = 0; i < 3; i++) ids.push(await parkInboundEvent(t.db, { installationId, appId: 'cli_x', payload: `{"n":${i}}` }));
  let release!: () => void;
  const slow = new Promise<void>((resolve) => (release = resolve));
  const dispatched: number[] = [];
  const stop = new AbortController();
  const processor = startProcessor(
    {
      parked: new Set(ids),
      batchSize: 2,
      dispatch: async (event) => {
        if (event.id === ids[0]) await slow;
        dispatched.push(event.id);
        return DISPATCHED;
      },
    },
    stop.signal,
  );
  try {
    // The first batch is the oldest two; the third is claimed while the first still runs.
    await waitFor(async () => dispatched.includes(ids[2]), 5000, 'the third event dispatched beside the slow first');
    expect(dispatched).toEqual([ids[1], ids[2]]);
  } finally {
    release();
  }
  await waitFor(async () => (await t.pool.query(`SELECT count(*)::int AS n FROM lark_inbound_backlog`)).rows[0].n === 0, 5000, 'done');
  expect(dispatched).toEqual([ids[1], ids[2], ids[0]]);
  stop.abort();
  await processor;
});

test("a chat's parked events are dispatched one after another, while other chats' go ahead beside them", async () => {
  const chats = ['oc_a', 'oc_b', 'oc_a'];
  const ids: number[] = [];
  for (const chat of chats) ids.push(await parkInboundEvent(t.db, { installationId, appId: 'cli_x', payload: JSON.stringify({ chat }) }));
  let release!: () => void;
  const slow = new Promise<void>((resolve) => (release = resolve));
  const started: number[] = [];
  const finished: number[] = [];
  const stop = new AbortController();
  const processor = startProcessor(
    {
      // Slots for all three: only the chat's order can keep the third waiting.
      gate: new ConcurrencyGate(3),
      chatOf: (event) => (JSON.parse(event.payload) as { chat: string }).chat,
      dispatch: async (event) => {
        started.push(event.id);
        if (event.id === ids[0]) await slow;
        finished.push(event.id);
        return DISPATCHED;
      },
    },
    stop.signal,
  );
  try {
    await waitFor(async () => finished.includes(ids[1]), 5000, 'the other chat dispatched');
    // The first chat's second event has not started while its first is still being dispatched.
    expect(started).toEqual([ids[0], ids[1]]);
  } finally {
    release();
  }
  await waitFor(async () => (await t.pool.query(`SELECT count(*)::int AS n FROM lark_inbound_backlog`)).rows[0].n === 0, 5000, 'done');
  expect(finished).toEqual([ids[1], ids[0], ids[2]]);
  stop.abort();
  await processor;
});

test('while the ACK path is parking, the backlog dispatches with its yield slots only; once it is quiet, with every slot', async () => {
  await t.pool.query('DELETE FROM lark_inbound_backlog');
  const ids: number[] = [];
  for (let i = 0; i < 8; i++) ids.push(await parkInboundEvent(t.db, { installationId, appId: 'cli_x', payload: `{"yield":${i}}` }));
  let inFlight = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let busy = true;
  const stop = new AbortController();
  const processor = startProcessor(
    {
      gate: new ConcurrencyGate(8),
      parked: new Set(ids),
      ackPathBusy: () => busy,
      yieldSlots: 2,
      dispatch: async () => {
        inFlight += 1;
        await released;
        return DISPATCHED;
      },
    },
    stop.signal,
  );
  try {
    await waitFor(async () => inFlight === 2, 5000, 'the yield slots in use');
    // Several rechecks go by, and the other six events stay waiting.
    await new Promise((r) => setTimeout(r, 300));
    expect(inFlight).toBe(2);
    busy = false;
    await waitFor(async () => inFlight === 8, 5000, 'every slot in use once the ACK path is quiet');
    release();
    await waitFor(async () => (await t.pool.query(`SELECT count(*)::int AS n FROM lark_inbound_backlog`)).rows[0].n === 0, 5000, 'all dispatched');
  } finally {
    release();
    stop.abort();
    await processor;
  }
});
