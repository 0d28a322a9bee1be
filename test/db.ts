import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { inject } from 'vitest';
import { createDb, createPool, type Db } from '../server/db/client';
import { PgListener } from '../server/db/listen';

/** `listener` is the clone's shared LISTEN connection; it connects on its first subscription. */
export type TestDatabase = { url: string; pool: pg.Pool; db: Db; listener: PgListener; drop: () => Promise<void> };

/** A fresh database cloned from the migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('pgAdminUrl');
  const template = inject('pgTemplateDb');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = createPool(url.toString(), 20);
  const listener = new PgListener({ connectionString: url.toString(), logger: pino({ level: 'silent' }) });
  return {
    url: url.toString(),
    pool,
    db: createDb(pool),
    listener,
    drop: async () => {
      await listener.close();
      await pool.end();
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/**
 * Points this test file's process-wide db() (used by route handlers and auth) at a fresh clone.
 * Call from beforeAll before importing modules that read DATABASE_URL lazily.
 */
export async function useTestDatabase(): Promise<TestDatabase> {
  const t = await createTestDatabase();
  process.env.DATABASE_URL = t.url;
  return t;
}
