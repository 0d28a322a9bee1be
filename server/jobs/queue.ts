import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';

export const OUTBOX_QUEUE = 'lark-outbox';
/** NOTIFYed on commit of every outbox job, so idle deliverers fetch at once instead of at their next poll. */
export const OUTBOX_WAKE_CHANNEL = 'larkspur_outbox';
export const MAINTENANCE_QUEUE = 'lark-maintenance';

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

/** True while a job for this outbox row is waiting or running; false once it completed, failed or expired. */
export function liveOutboxJobExists(outboxId: SQL): SQL {
  return sql`EXISTS (SELECT 1 FROM pgboss.job j WHERE j.name = ${OUTBOX_QUEUE} AND j.state IN ('created', 'retry', 'active') AND j.data->>'outboxId' = ${outboxId}::text)`;
}

/** Enqueues jobs in the caller's transaction. */
export type JobEnqueuer = {
  enqueueOutbox(tx: DbOrTx, outboxId: string, opts?: { startAfter?: Date }): Promise<void>;
};

export function createJobQueue(input: { databaseUrl: string; maintenanceIntervalSeconds?: number; logger?: Logger }) {
  const boss = new PgBoss({
    connectionString: input.databaseUrl,
    schema: 'pgboss',
    max: 4,
    application_name: 'larkspur-jobs',
    // Expired jobs are failed by pg-boss's maintenance; the outbox reconciler resubmits their rows.
    maintenanceIntervalSeconds: input.maintenanceIntervalSeconds ?? 30,
  });
  const enqueuer: JobEnqueuer = {
    async enqueueOutbox(tx, outboxId, opts) {
      // No queue-level retries: the outbox's retry policy schedules every retry itself, and the
      // reconciler hands back rows whose job ended without an outcome (a crash, an expiry).
      await boss.send(OUTBOX_QUEUE, { outboxId }, { db: txAdapter(tx), startAfter: opts?.startAfter, retryLimit: 0, expireInSeconds: 120 });
      if (!opts?.startAfter) await tx.execute(sql`SELECT pg_notify(${OUTBOX_WAKE_CHANNEL}, '')`);
    },
  };
  return {
    boss,
    enqueuer,
    async start() {
      // pg-boss reports its own background failures here; without a listener it would throw.
      boss.on('error', (err) => input.logger?.warn({ err }, 'job queue background error'));
      await boss.start();
      for (const name of [OUTBOX_QUEUE, MAINTENANCE_QUEUE]) await boss.createQueue(name);
    },
    async stop(timeoutMs: number) {
      await boss.stop({ graceful: true, timeout: timeoutMs, wait: true });
    },
  };
}
