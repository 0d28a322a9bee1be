import path from 'node:path';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';

// Any constant works; it only has to be the same in web, worker and tests.
const MIGRATION_LOCK_KEY = 7_311_204_551;

export const migrationsFolder = path.join(process.cwd(), 'drizzle');

/**
 * Applies pending migrations. Web and worker both call this at start; the advisory lock makes
 * whichever starts second wait for the first instead of racing it.
 */
export async function applyMigrations(connectionString: string, folder = migrationsFolder): Promise<void> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await migrate(drizzle(client), { migrationsFolder: folder });
  } finally {
    // Closing the session below releases the lock anyway.
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    await client.end();
  }
}

/** True when every migration in the folder has been applied (used by readiness checks). */
export async function migrationsApplied(client: pg.Pool | pg.Client, folder = migrationsFolder): Promise<boolean> {
  const { readMigrationFiles } = await import('drizzle-orm/migrator');
  const expected = readMigrationFiles({ migrationsFolder: folder }).length;
  try {
    const res = await client.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
    return res.rows[0].n >= expected;
  } catch {
    // No migrations table yet: nothing is applied.
    return false;
  }
}
