import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, expect, test } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedServer } from './embedded-postgres';

const started: Array<{ server: EmbeddedServer; dir: string }> = [];

afterAll(async () => {
  for (const { server, dir } of started) {
    await server.stop().catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  }
});

async function start(dataDir: (dir: string) => string): Promise<EmbeddedServer> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'larkspur-pg-'));
  await fs.chmod(dir, 0o777);
  const server = await startEmbeddedPostgres({ dataDir: dataDir(dir), persistent: false });
  started.push({ server, dir });
  return server;
}

/** The client's address as the server sees it: null over a Unix socket. */
async function clientAddress(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const res = await client.query<{ addr: string | null }>('SELECT inet_client_addr()::text AS addr');
    return res.rows[0].addr;
  } finally {
    await client.end();
  }
}

test('a cluster takes local connections on the Unix socket in its data directory, and TCP as before', { timeout: 120_000 }, async () => {
  const server = await start((dir) => path.join(dir, 'pg'));
  expect(server.socketUrl('postgres')).not.toEqual(server.url('postgres'));
  expect(await clientAddress(server.socketUrl('postgres'))).toBeNull();
  expect(await clientAddress(server.url('postgres'))).toBe('127.0.0.1/32');
});

test('a data directory too deep for a socket path leaves the cluster on TCP alone', { timeout: 120_000 }, async () => {
  const server = await start((dir) => path.join(dir, 'x'.repeat(60), 'y'.repeat(60)));
  expect(server.socketUrl('postgres')).toEqual(server.url('postgres'));
  expect(await clientAddress(server.socketUrl('postgres'))).toBe('127.0.0.1/32');
});
