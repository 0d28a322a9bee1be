import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';

export const OUTBOX_QUEUE = 'lark-outbox';
/** NOTIFYed on commit of every outbox job, so idle deliverers fetch at once instead of at their next poll. */
export const OUTBOX_WAKE_CHANNEL = 'larkspur_outbox';
export const MAINTENANCE_QUEUE = 'lark-maintenance';
export const RETENTION_QUEUE = 'lark-retention';

/** Adapts a Drizzle transaction to pg-boss's `db` option so a job commits (or not) with its cause. */
function txAdapter(tx: DbOrTx): PgBoss.Db {
  return {
    async executeSql(text: string, values: unknown[]) {
      const parts = text.split(/\$(\d+)/);
      const chunks: SQL[] = parts.map((part, i) => (i % 2 === 0 ? sql.raw(part) : sql`${sql.param(values[Number(part) - 1])}`));
      const res = await tx.execute(sql.join(chunks, sql.raw('')));
      return { rows: res.rows as unknown[] };
    },
  };
}

/**
 * True while a job for this outbox row waits to run (now or at a later retry time). A running job
 * does not count: whether its sender is alive shows in the row's hold, not in the job, which a
 * dead sender leaves "active" until it expires.
 */
export function waitingOutboxJobExists(outboxId: SQL): SQL {
  return sql`EXISTS (SELECT 1 FROM pgboss.job j WHERE j.name = ${OUTBOX_QUEUE} AND j.state IN ('created', 'retry') AND j.data->>'outboxId' = ${outboxId}::text)`;
}

/** Enqueues jobs in the caller's transaction. */
export type JobEnqueuer = {
  enqueueOutbox(tx: DbOrTx, outboxId: string, opts?: { startAfter?: Date }): Promise<void>;
};

/** Tries to start the queue this many times: workers starting together can deadlock in pg-boss's own setup. */
const START_ATTEMPTS = 5;

export function createJobQueue(input: { databaseUrl: string; maintenanceIntervalSeconds?: number; logger?: Logger }) {
  const newBoss = () =>
    new PgBoss({
      connectionString: input.databaseUrl,
      schema: 'pgboss',
      max: 4,
      application_name: 'larkspur-jobs',
      // Expired jobs are failed by pg-boss's maintenance; the outbox reconciler resubmits their rows.
      maintenanceIntervalSeconds: input.maintenanceIntervalSeconds ?? 30,
    });
  let boss = newBoss();
  const enqueuer: JobEnqueuer = {
    async enqueueOutbox(tx, outboxId, opts) {
      // No queue-level retries: the outbox's retry policy schedules every retry itself, and the
      // reconciler hands back rows whose job ended without an outcome (a crash, an expiry).
      await boss.send(OUTBOX_QUEUE, { outboxId }, { db: txAdapter(tx), startAfter: opts?.startAfter, retryLimit: 0, expireInSeconds: 120 });
      if (!opts?.startAfter) await tx.execute(sql`SELECT pg_notify(${OUTBOX_WAKE_CHANNEL}, '')`);
    },
  };
  return {
    /** The running pg-boss instance (a failed start is replaced by a fresh one). */
    get boss() {
      return boss;
    },
    enqueuer,
    async start() {
      for (let attempt = 1; ; attempt++) {
        // pg-boss reports its own background failures here; without a listener it would throw.
        boss.on('error', (err) => input.logger?.warn({ err }, 'job queue background error'));
        try {
          await boss.start();
          for (const name of [OUTBOX_QUEUE, MAINTENANCE_QUEUE, RETENTION_QUEUE]) await boss.createQueue(name);
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
