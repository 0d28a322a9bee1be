import os from 'node:os';
import { applyMigrations } from '../server/db/migrate';
import { ConfigError, env } from '../server/env';
import { larkIntegration } from '../server/lark/integration';
import { logger } from '../server/logger';
import { startWorker } from './worker';

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
  const worker = await startWorker({ config, integration: larkIntegration(), nodeId, logger: log });
  log.info({ nodeId }, 'worker started');

  let stoppingSince = 0;
  const stop = (signal: string) => {
    if (stoppingSince) {
      // A process group signal and the launcher's own arrive together; only a later one means "now".
      if (Date.now() - stoppingSince < 2000) return;
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stoppingSince = Date.now();
    log.info({ signal }, 'worker shutting down');
    // Graceful first; if loops are still busy at the deadline, exit anyway.
    setTimeout(() => {
      log.error('worker did not stop within the shutdown deadline; exiting');
      process.exit(1);
    }, config.WORKER_SHUTDOWN_TIMEOUT_MS).unref();
    void worker.stop().then(() => {
      log.info('worker stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await worker.done;
}

main().catch((err) => {
  logger().fatal({ err }, 'worker crashed');
  process.exit(1);
});
