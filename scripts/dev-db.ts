// Starts a persistent embedded PostgreSQL for local development, applies migrations and prints
// DATABASE_URL. Ctrl-C stops it.
import path from 'node:path';
import { applyMigrations } from '../server/db/migrate';
import { ensureDatabase, startEmbeddedPostgres } from './embedded-postgres';

const port = Number(process.env.DEV_PG_PORT ?? 5499);
const server = await startEmbeddedPostgres({ dataDir: path.join('.data', 'dev-pg'), persistent: true, port });
await ensureDatabase(server.url('postgres'), 'larkspur');
const url = server.url('larkspur');
await applyMigrations(url);
console.log(`DATABASE_URL=${url}`);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
