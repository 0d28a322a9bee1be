import os from 'node:os';
import { applyMigrations } from '../server/db/migrate';
import { ConfigError, env } from '../server/env';
import { larkIntegration } from '../server/lark/integration';
import { logger } from '../server/logger';
import { NodeIdInUseError } from '../server/ops/node-registry';
import { installProcessErrorPolicy } from '../server/ops/process-policy';
import { startWorker } from './worker';

process.env.LARKSPUR_PROCESS ??= 'worker';
installProcessErrorPolicy(logger());

async function main() {
  const config = env();
  const log = logger();
  const nodeId = config.NODE_ID ?? `${os.hostname()}-${process.pid}`;
  await applyMigrations(config.DATABASE_URL);
  const worker = await startWorker({ config, integration: larkIntegration(), nodeId, logger: log, ackThread: config.LARK_ACK_THREAD });
  log.info({ nodeId, opsPort: worker.opsPort }, 'worker started');

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
  // An invalid setting, or one found unusable at start-up (WORKER_PORT in use): one clear line, exit 2.
  if (err instanceof ConfigError || err instanceof NodeIdInUseError) {
    console.error(err.message);
    process.exit(2);
  }
  logger().fatal({ err }, 'worker crashed');
  process.exit(1);
});
