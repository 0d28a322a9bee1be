import pino from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createJobQueue } from '@/server/jobs/queue';
import { createTestDatabase, type TestDatabase } from '../db';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  // As on a fresh deployment: no job tables yet, so every worker sets them up at once.
  await t.pool.query('DROP SCHEMA IF EXISTS pgboss CASCADE');
});
afterAll(async () => t?.drop());

test('workers starting together all get a running job queue', async () => {
  const queues = Array.from({ length: 4 }, () => createJobQueue({ databaseUrl: t.url, logger: pino({ level: 'silent' }) }));
  const results = await Promise.allSettled(queues.map((q) => q.start()));
  await Promise.all(queues.map((q) => q.stop(2000).catch(() => {})));
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
});
