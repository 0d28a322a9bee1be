import { pool } from '@/server/db/client';
import { migrationsApplied } from '@/server/db/migrate';

export const dynamic = 'force-dynamic';

/** Readiness: the database answers and every migration is applied. */
export async function GET() {
  const checks = { database: false, migrations: false };
  try {
    await pool().query('SELECT 1');
    checks.database = true;
    checks.migrations = await migrationsApplied(pool());
  } catch {
    // reported below
  }
  const ready = checks.database && checks.migrations;
  return Response.json({ status: ready ? 'ready' : 'not_ready', checks }, { status: ready ? 200 : 503 });
}
