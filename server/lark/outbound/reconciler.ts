import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client';
import { waitingOutboxJobExists, type JobEnqueuer } from '../../jobs/queue';
import { sleep } from '../../async/abortable';

/** A row this young is left alone: its first job may not have started yet. */
const RECONCILE_GRACE_SECONDS = 5;
const RECONCILE_BATCH = 100;
export const OUTBOX_RECONCILE_INTERVAL_MS = 5_000;

/**
 * Hands back pending outbox rows that nobody holds and no job waits for: their sender died mid-send
 * (its hold ran out), or the outcome could not be recorded. A second job for a row whose sender is
 * in fact alive is harmless: the hold lets one attempt at a time proceed, and Lark's idempotency
 * uuid keeps a resend from showing twice. Returns how many rows were handed back.
 */
export async function reconcileOutbox(db: Db, jobs: JobEnqueuer): Promise<number> {
  return db.transaction(async (tx) => {
    const orphans = await tx.execute<{ id: string }>(sql`
      SELECT o.id FROM lark_outbox o
      WHERE o.status = 'pending'
        AND (o.sending_until IS NULL OR o.sending_until < now())
        AND o.created_at < now() - make_interval(secs => ${RECONCILE_GRACE_SECONDS})
        AND NOT ${waitingOutboxJobExists(sql`o.id`)}
      ORDER BY o.created_at
      LIMIT ${RECONCILE_BATCH}
      FOR UPDATE SKIP LOCKED`);
    for (const row of orphans.rows) await jobs.enqueueOutbox(tx, row.id);
    return orphans.rows.length;
  });
}

export async function runOutboxReconciler(deps: { db: Db; jobs: JobEnqueuer; logger: Logger; intervalMs?: number }, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    await sleep(deps.intervalMs ?? OUTBOX_RECONCILE_INTERVAL_MS, signal);
    if (signal.aborted) break;
    try {
      const handedBack = await reconcileOutbox(deps.db, deps.jobs);
      if (handedBack > 0) deps.logger.warn({ handedBack }, 'outbox rows without a live job were handed back');
    } catch (err) {
      deps.logger.error({ err }, 'outbox reconciliation failed; trying again next interval');
    }
  }
}
