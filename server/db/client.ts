import 'server-only';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema';
import { env } from '../env';
import { logger } from '../logger';

export type Schema = typeof schema;
export type Db = NodePgDatabase<Schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Services accept either the pool-backed db or an open transaction so callers can compose them. */
export type DbOrTx = Db | Tx;

export function createPool(connectionString: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  // A connection the server ends (restart, failover, pg_terminate_backend) emits 'error'. Idle ones
  // come through the pool; checked-out ones only on the client itself, where an unheard 'error'
  // would end the process. Their queries fail on their own, so the work retries; here we only log.
  pool.on('error', (err) => logger().warn({ err }, 'an idle database connection was lost'));
  pool.on('connect', (client) => {
    client.on('error', (err) => logger().warn({ err }, 'a database connection in use was lost'));
  });
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
