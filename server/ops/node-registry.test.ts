import pino from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/db';
import { claimNodeIdentity, NodeIdInUseError, releaseNodeIdentity, runNodeHeartbeat } from './node-registry';

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
