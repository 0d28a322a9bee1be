import os from 'node:os';
import { createDb, createPool } from '../server/db/client';
import { applyMigrations } from '../server/db/migrate';
import { ConfigError, env } from '../server/env';
import { logger } from '../server/logger';
import { larkIntegration } from '../server/lark/integration';
import { LarkHub, hubConfigFromEnv } from './lark/hub/hub';
import { runRegistrationPoller } from './lark/registration-poller';
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

  const integration = larkIntegration();
  const loops: Array<Promise<void>> = [];
  if (integration.configured) {
    const hub = new LarkHub({
      db,
      databaseUrl: config.DATABASE_URL,
      nodeId,
      integration,
      logger: log.child({ loop: 'lark-hub' }),
      config: hubConfigFromEnv(config),
    });
    loops.push(hub.run(shutdown.signal));
    loops.push(
      runRegistrationPoller(
        { db, databaseUrl: config.DATABASE_URL, integration, logger: log.child({ loop: 'lark-registration' }), tickMs: config.LARK_REGISTRATION_TICK_MS },
        shutdown.signal,
      ),
    );
  } else {
    log.info('LARK_SECRET_KEY is not set: the Lark integration is off');
  }

  log.info({ nodeId }, 'worker started');
  await Promise.all([
    ...loops,
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
