import pino from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/db';
import { claimNodeIdentity, NODE_FENCE_AFTER_MS, NODE_HEARTBEAT_MS, NODE_STALE_AFTER_MS, NodeHealth, NodeIdInUseError, releaseNodeIdentity, runNodeHeartbeat } from './node-registry';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());
const logger = pino({ level: 'silent' });

test('a second live process with the same NODE_ID is refused with a message naming NODE_ID', async () => {
  const first = await claimNodeIdentity(t.db, { nodeId: 'node-dup', logger });
  const beating = new AbortController();
  const heartbeat = runNodeHeartbeat(t.db, { nodeId: 'node-dup', bootId: first, logger }, beating.signal);
  const second = await claimNodeIdentity(t.db, { nodeId: 'node-dup', waitMs: 1500, logger }).catch((e: unknown) => e);
  beating.abort();
  await heartbeat;
  expect(second).toBeInstanceOf(NodeIdInUseError);
  expect((second as Error).message).toMatch(/NODE_ID "node-dup" is in use/);
});

test('a restarted process takes the identity over once its predecessor went stale, or at once after a clean release', async () => {
  const crashed = await claimNodeIdentity(t.db, { nodeId: 'node-restart', logger });
  await t.pool.query(`UPDATE worker_node SET heartbeat_at = now() - interval '1 minute' WHERE node_id = 'node-restart'`);
  const restarted = await claimNodeIdentity(t.db, { nodeId: 'node-restart', waitMs: 0, logger });
  expect(restarted).not.toBe(crashed);
  await releaseNodeIdentity(t.db, { nodeId: 'node-restart', bootId: restarted });
  const next = await claimNodeIdentity(t.db, { nodeId: 'node-restart', waitMs: 0, logger });
  expect(next).not.toBe(restarted);
});

test('a worker that cannot renew its node row fences itself once, well before others may call it stale', async () => {
  const bootId = await claimNodeIdentity(t.db, { nodeId: 'node-fence', logger });
  let fenced = 0;
  let databaseDown = false;
  const flaky = new Proxy(t.db, {
    get(target, prop, receiver) {
      if (prop === 'execute' && databaseDown) return () => Promise.reject(new Error('connection terminated unexpectedly'));
      return Reflect.get(target, prop, receiver);
    },
  });
  const stop = new AbortController();
  const beating = runNodeHeartbeat(flaky, { nodeId: 'node-fence', bootId, logger, heartbeatMs: 50, fenceAfterMs: 300, onFenced: () => fenced++ }, stop.signal);
  await new Promise((r) => setTimeout(r, 400));
  expect(fenced).toBe(0);
  databaseDown = true;
  await new Promise((r) => setTimeout(r, 800));
  stop.abort();
  await beating;
  expect(fenced).toBe(1);
  // Fenced on time, by a timer: a beat's worth before the bound still leaves time before a sibling may call this node stale.
  expect(NODE_FENCE_AFTER_MS + NODE_HEARTBEAT_MS).toBeLessThan(NODE_STALE_AFTER_MS);
});

test('a heartbeat whose query hangs (a half-open database connection) still fences on time', async () => {
  const bootId = await claimNodeIdentity(t.db, { nodeId: 'node-hang', logger });
  let hang = false;
  const hanging = new Proxy(t.db, {
    get(target, prop, receiver) {
      if (prop === 'execute' && hang) return () => new Promise(() => {});
      return Reflect.get(target, prop, receiver);
    },
  });
  let fencedAfterMs: number | null = null;
  const stop = new AbortController();
  const beating = runNodeHeartbeat(hanging, { nodeId: 'node-hang', bootId, logger, heartbeatMs: 50, fenceAfterMs: 300, onFenced: () => (fencedAfterMs ??= Date.now() - hungAt) }, stop.signal);
  await new Promise((r) => setTimeout(r, 200));
  hang = true;
  const hungAt = Date.now();
  await new Promise((r) => setTimeout(r, 700));
  stop.abort();
  await beating;
  expect(fencedAfterMs).not.toBeNull();
  // At most the bound after the last beat that went through (one beat before the hang, at worst).
  expect(fencedAfterMs!).toBeLessThanOrEqual(300 + 50);
});

test('after an outage the node holds no leases until a renewal goes through, and judges siblings only after a steady staleness window', async () => {
  const bootId = await claimNodeIdentity(t.db, { nodeId: 'node-health', logger });
  const health = new NodeHealth();
  // Freshly claimed: nothing suggests an outage it shared with its siblings.
  expect(health.mayHoldLeases()).toBe(true);
  expect(health.maySeeSiblingsStale()).toBe(true);
  let databaseDown = false;
  const flaky = new Proxy(t.db, {
    get(target, prop, receiver) {
      if (prop === 'execute' && databaseDown) return () => Promise.reject(new Error('connect ECONNREFUSED'));
      return Reflect.get(target, prop, receiver);
    },
  });
  let recovered = 0;
  let fenced = 0;
  const stop = new AbortController();
  const beating = runNodeHeartbeat(
    flaky,
    { nodeId: 'node-health', bootId, logger, health, heartbeatMs: 50, fenceAfterMs: 300, onFenced: () => fenced++, onRecovered: () => recovered++ },
    stop.signal,
  );
  try {
    databaseDown = true;
    await new Promise((r) => setTimeout(r, 500));
    expect(fenced).toBe(1);
    expect(health.mayHoldLeases()).toBe(false);
    expect(health.maySeeSiblingsStale()).toBe(false);
    databaseDown = false;
    await new Promise((r) => setTimeout(r, 300));
    expect(recovered).toBe(1);
    expect(health.mayHoldLeases()).toBe(true);
    // Its own row was as stale as theirs a moment ago: siblings are judged a whole window later.
    expect(health.maySeeSiblingsStale()).toBe(false);
    expect(health.maySeeSiblingsStale(performance.now() + NODE_STALE_AFTER_MS)).toBe(true);
  } finally {
    stop.abort();
    await beating;
  }
});
