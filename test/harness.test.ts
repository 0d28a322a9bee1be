import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from './db';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

test('each test file gets a migrated database of its own', async () => {
  const res = await t.pool.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'workspace'`);
  expect(res.rows[0].n).toBe(1);
  const db = await t.pool.query('SELECT current_database() AS name');
  expect(db.rows[0].name).toMatch(/^t_[0-9a-f]{12}$/);
});
