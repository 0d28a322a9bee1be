import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/db';
import { PgListener } from './listen';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

const silent = pino({ level: 'silent' });

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function notify(channel: string, payload: string) {
  await t.pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
}

test('delivers NOTIFYs per channel to every subscriber, and stops after unsubscribe', async () => {
  const listener = new PgListener({ connectionString: t.url, logger: silent });
  const a: string[] = [];
  const b: string[] = [];
  const c: string[] = [];
  listener.subscribe('chan_a', { onNotify: (p) => a.push(p) });
  const offB = listener.subscribe('chan_a', { onNotify: (p) => b.push(p) });
  listener.subscribe('chan_c', { onNotify: (p) => c.push(p) });
  await listener.ready();
  await notify('chan_a', 'one');
  await notify('chan_c', 'two');
  await waitFor(() => a.length === 1 && b.length === 1 && c.length === 1);
  expect([a, b, c]).toEqual([['one'], ['one'], ['two']]);
  offB();
  await notify('chan_a', 'three');
  await waitFor(() => a.length === 2);
  expect(b).toEqual(['one']);
  await listener.close();
});

test('after its connection is terminated it reconnects, re-subscribes every channel and asks every subscriber to resync', async () => {
  const listener = new PgListener({ connectionString: t.url, logger: silent, backoffMinMs: 50, backoffMaxMs: 200 });
  const received: Record<string, string[]> = { hub: [], outbox: [], tasks: [] };
  const resyncs: Record<string, number> = { hub: 0, outbox: 0, tasks: 0 };
  listener.subscribe('larkspur_test_hub', { onNotify: (p) => received.hub.push(p), onResync: () => resyncs.hub++ });
  listener.subscribe('larkspur_test_outbox', { onNotify: (p) => received.outbox.push(p), onResync: () => resyncs.outbox++ });
  listener.subscribe('larkspur_test_tasks', { onNotify: (p) => received.tasks.push(p), onResync: () => resyncs.tasks++ });
  await listener.ready();
  const firstPid = listener.backendPid();
  expect(firstPid).toBeTypeOf('number');
  // Listening started: each subscriber caught up once.
  await waitFor(() => resyncs.hub === 1 && resyncs.outbox === 1 && resyncs.tasks === 1);

  const admin = new pg.Client({ connectionString: t.url });
  await admin.connect();
  const killed = await admin.query('SELECT pg_terminate_backend($1) AS ok', [firstPid]);
  expect(killed.rows[0].ok).toBe(true);
  await admin.end();

  await waitFor(() => listener.getState() === 'listening' && listener.backendPid() !== firstPid);
  await waitFor(() => resyncs.hub === 2 && resyncs.outbox === 2 && resyncs.tasks === 2);
  expect(resyncs).toEqual({ hub: 2, outbox: 2, tasks: 2 });
  await notify('larkspur_test_hub', 'after-hub');
  await notify('larkspur_test_outbox', 'after-outbox');
  await notify('larkspur_test_tasks', 'after-tasks');
  await waitFor(() => received.hub.length + received.outbox.length + received.tasks.length === 3);
  expect(received).toEqual({ hub: ['after-hub'], outbox: ['after-outbox'], tasks: ['after-tasks'] });
  await listener.close();
});

test('keeps retrying with backoff while the database refuses connections', async () => {
  const listener = new PgListener({ connectionString: t.url.replace(/:(\d+)\//, ':1/'), logger: silent, backoffMinMs: 20, backoffMaxMs: 50 });
  listener.subscribe('larkspur_test_down', { onNotify: () => {} });
  await waitFor(() => listener.getState() === 'backoff');
  await listener.close();
  expect(listener.getState()).toBe('closed');
});

test('a subscriber that throws does not stop the others', async () => {
  const listener = new PgListener({ connectionString: t.url, logger: silent });
  const got: string[] = [];
  listener.subscribe('larkspur_test_throw', {
    onNotify: () => {
      throw new Error('boom');
    },
  });
  listener.subscribe('larkspur_test_throw', { onNotify: (p) => got.push(p) });
  await listener.ready();
  await notify('larkspur_test_throw', 'x');
  await waitFor(() => got.length === 1);
  await listener.close();
});

test('a subscriber that joins a live connection catches up once its LISTEN is in place', async () => {
  const listener = new PgListener({ connectionString: t.url, logger: silent });
  listener.subscribe('larkspur_test_first', { onNotify: () => {} });
  await listener.ready();
  let resynced = 0;
  listener.subscribe('larkspur_test_late', { onNotify: () => {}, onResync: () => resynced++ });
  await waitFor(() => resynced === 1);
  await listener.close();
});
