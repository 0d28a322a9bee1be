import os from 'node:os';
import { createDb, createPool } from '../server/db/client';
import { applyMigrations } from '../server/db/migrate';
import { ConfigError, env } from '../server/env';
import { logger } from '../server/logger';
import { runTaskRunner } from './task-runner';

process.env.LARKSPUR_PROCESS ??= 'worker';

async function main() {
  let config;
  try {
    config = env();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const log = logger();
  const nodeId = config.NODE_ID ?? `${os.hostname()}-${process.pid}`;
  await applyMigrations(config.DATABASE_URL);
  const pool = createPool(config.DATABASE_URL, config.WORKER_CONCURRENCY + 5);
  const db = createDb(pool);

  const shutdown = new AbortController();
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) {
      log.warn({ signal: sig }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal: sig }, 'worker shutting down');
    shutdown.abort();
    // Graceful first; if loops are still busy at the deadline, exit anyway.
    setTimeout(() => {
      log.error('worker did not stop within the shutdown deadline; exiting');
      process.exit(1);
    }, config.WORKER_SHUTDOWN_TIMEOUT_MS).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  log.info({ nodeId }, 'worker started');
  await Promise.all([
    runTaskRunner(
      {
        db,
        databaseUrl: config.DATABASE_URL,
        workerId: nodeId,
        logger: log.child({ loop: 'tasks' }),
        concurrency: config.WORKER_CONCURRENCY,
        pollIntervalMs: config.WORKER_POLL_INTERVAL_MS,
        runtimeTimeoutMs: config.AGENT_RUNTIME_TIMEOUT_MS,
      },
      shutdown.signal,
    ),
  ]);
  await pool.end();
  log.info('worker stopped');
}

main().catch((err) => {
  logger().fatal({ err }, 'worker crashed');
  process.exit(1);
});
