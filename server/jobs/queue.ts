import PgBoss from 'pg-boss';
import type { Logger } from 'pino';

export const MAINTENANCE_QUEUE = 'lark-maintenance';
export const RETENTION_QUEUE = 'lark-retention';

/** Tries to start the queue this many times: workers starting together can deadlock in pg-boss's own setup. */
const START_ATTEMPTS = 5;

export function createJobQueue(input: { databaseUrl: string; maintenanceIntervalSeconds?: number; logger?: Logger }) {
  const newBoss = () =>
    new PgBoss({
      connectionString: input.databaseUrl,
      schema: 'pgboss',
      // Only the scheduled maintenance and retention jobs run here; the hot paths claim their own rows.
      max: 2,
      application_name: 'larkspur-jobs',
      maintenanceIntervalSeconds: input.maintenanceIntervalSeconds ?? 30,
    });
  let boss = newBoss();
  return {
    /** The running pg-boss instance (a failed start is replaced by a fresh one). */
    get boss() {
      return boss;
    },
    async start() {
      for (let attempt = 1; ; attempt++) {
        // pg-boss reports its own background failures here; without a listener it would throw.
        boss.on('error', (err) => input.logger?.warn({ err }, 'job queue background error'));
        try {
          await boss.start();
          for (const name of [MAINTENANCE_QUEUE, RETENTION_QUEUE]) await boss.createQueue(name);
          return;
        } catch (err) {
          // A half-started instance cannot start again: discard it and try with a new one.
          await boss.stop({ graceful: false, wait: true }).catch((e) => input.logger?.debug({ err: e }, 'discarding a failed job queue'));
          if (attempt >= START_ATTEMPTS) throw err;
          input.logger?.warn({ err, attempt }, 'starting the job queue failed; retrying');
          await new Promise((r) => setTimeout(r, 200 * attempt + Math.random() * 300));
          boss = newBoss();
        }
      }
    },
    async stop(timeoutMs: number) {
      await boss.stop({ graceful: true, timeout: timeoutMs, wait: true });
    },
  };
}
