import net from 'node:net';
import type pg from 'pg';
import pino from 'pino';
import { afterEach, expect, test } from 'vitest';
import { ConfigError } from '../env';
import { createWorkerMetrics } from './metrics';
import { startOpsServer } from './ops-server';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function start(port: number) {
  return startOpsServer({
    port,
    host: '127.0.0.1',
    // Only /readyz touches the pool.
    pool: {} as pg.Pool,
    metrics: createWorkerMetrics(),
    logger: pino({ level: 'silent' }),
    readiness: () => ({}),
  });
}

async function occupiedPort(): Promise<number> {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => blocker.close(() => resolve())));
  return (blocker.address() as net.AddressInfo).port;
}

test('a port in use fails start-up with one line naming WORKER_PORT and how to pick a free one', async () => {
  const port = await occupiedPort();
  const error = await start(port).then(
    (ops) => {
      closers.push(ops.close);
      return null;
    },
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ConfigError);
  const message = (error as Error).message;
  expect(message).not.toContain('\n');
  expect(message).toContain(`WORKER_PORT ${port}`);
  expect(message).toContain('already in use');
  expect(message).toContain('WORKER_PORT=0');
});

test('port 0 picks a free port and serves on it', async () => {
  const ops = await start(0);
  closers.push(ops.close);
  expect(ops.port).toBeGreaterThan(0);
  const res = await fetch(`http://127.0.0.1:${ops.port}/healthz`);
  expect(res.status).toBe(200);
});
