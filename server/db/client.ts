import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema';
import { env } from '../env';

export type Schema = typeof schema;
export type Db = NodePgDatabase<Schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Services accept either the pool-backed db or an open transaction so callers can compose them. */
export type DbOrTx = Db | Tx;

export function createPool(connectionString: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  // An idle client that errors (e.g. the server restarted) must not crash the process.
  pool.on('error', () => {});
  return pool;
}

export function createDb(pool: pg.Pool): Db {
  return drizzle(pool, { schema, casing: 'snake_case' });
}

const globalForDb = globalThis as unknown as { larkspurPool?: pg.Pool; larkspurDb?: Db };

/** The process-wide database handle, created on first use from DATABASE_URL. */
export function db(): Db {
  if (!globalForDb.larkspurDb) {
    globalForDb.larkspurPool = createPool(env().DATABASE_URL);
    globalForDb.larkspurDb = createDb(globalForDb.larkspurPool);
  }
  return globalForDb.larkspurDb;
}

export function pool(): pg.Pool {
  db();
  return globalForDb.larkspurPool!;
}
