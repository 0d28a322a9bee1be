import net from 'node:net';
import os from 'node:os';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseEnv } from '@/server/env';
import type { RunningWorker } from '@/worker/worker';
import { useTestDatabase, type TestDatabase } from '../db';
import { startLarklessWorker } from '../worker';

// The worker's ops port, attacked from the network: it must not be reachable from other hosts by
// default, must want the operator's token for /metrics and /readyz when one is set, and a flood of
// scrapes must not turn into a flood of table scans.

const OPS_TOKEN = 'ops-token-0123456789abcdef';

let t: TestDatabase;
let worker: RunningWorker;

beforeAll(async () => {
  t = await useTestDatabase();
  // The defaults, but for where the database is and the token: WORKER_HOST is not set.
  ({ worker } = await startLarklessWorker(t, { nodeId: 'ops-security-test', env: { WORKER_OPS_TOKEN: OPS_TOKEN, WORKER_POLL_INTERVAL_MS: '200' } }));
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await t?.drop();
});

const ops = (path: string, headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${worker.opsPort}${path}`, { headers, signal: AbortSignal.timeout(3_000) });

function nonLoopbackAddress(): string | null {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const info of list ?? []) if (!info.internal && info.family === 'IPv4') return info.address;
  }
  return null;
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

describe('worker ops server', () => {
  test('listens on loopback only unless told otherwise', async () => {
    expect(parseEnv({ DATABASE_URL: t.url }).WORKER_HOST).toBe('127.0.0.1');
    const address = nonLoopbackAddress();
    // A machine with no other interface has nothing else to reach the port from.
    if (address) expect(await connects(address, worker.opsPort)).toBe(false);
    expect(await connects('127.0.0.1', worker.opsPort)).toBe(true);
  });

  test('with WORKER_OPS_TOKEN set, /metrics and /readyz want it; /healthz stays open for liveness probes', async () => {
    expect((await ops('/healthz')).status).toBe(200);
    for (const path of ['/metrics', '/readyz']) {
      expect((await ops(path)).status).toBe(401);
      expect((await ops(path, { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
      expect((await ops(path, { authorization: `Bearer ${OPS_TOKEN}x` })).status).toBe(401);
      expect((await ops(path, { authorization: OPS_TOKEN })).status).toBe(401);
    }
    const metrics = await ops('/metrics', { authorization: `Bearer ${OPS_TOKEN}` });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('larkspur_lark_outbox_messages');
    expect((await ops('/readyz', { authorization: `Bearer ${OPS_TOKEN}` })).status).toBe(200);
  });

  test('scrapes are served from maintained gauges: they never wait on the tables they count', async () => {
    // Anything that reads these tables now blocks until the lock is released; a scrape must not.
    const blocker = new pg.Client({ connectionString: t.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE lark_outbox, lark_registration_session IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      for (let i = 0; i < 25; i++) {
        const res = await ops('/metrics', { authorization: `Bearer ${OPS_TOKEN}` });
        expect(res.status).toBe(200);
        await res.text();
      }
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await blocker.query('ROLLBACK').catch(() => {});
      await blocker.end();
    }
  });
});
