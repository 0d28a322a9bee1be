import { sql } from 'drizzle-orm';
import { inTransaction } from '../../db/transaction';
import type { Db, DbOrTx } from '../../db/client';
import { larkInboundBacklog } from '../../db/schema';

/** Wakes backlog processors when an event was parked. */
export const LARK_BACKLOG_CHANNEL = 'larkspur_lark_backlog';
/**
 * How long a processor holds a parked event before another may take it. The holder renews the hold
 * while it works (every BACKLOG_HOLD_RENEW_MS), so a dead processor's events come back within this.
 */
export const BACKLOG_HOLD_SECONDS = 20;
export const BACKLOG_HOLD_RENEW_MS = 5_000;

export type BacklogEvent = { id: number; installationId: string; appId: string; payload: string; attempts: number };

/** Parks an event durably (one statement) so it can be ACKed now and dispatched when a slot frees up. */
export async function parkInboundEvent(db: DbOrTx, input: { installationId: string; appId: string; payload: string }): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx.insert(larkInboundBacklog).values(input);
    await tx.execute(sql`SELECT pg_notify(${LARK_BACKLOG_CHANNEL}, '')`);
  });
}

/** Takes up to `limit` parked events, oldest first, that nobody holds. */
export async function claimParkedEvents(db: Db, limit: number): Promise<BacklogEvent[]> {
  const res = await db.execute<{ id: string; installation_id: string; app_id: string; payload: string; attempts: number }>(sql`
    UPDATE lark_inbound_backlog SET claimed_until = now() + make_interval(secs => ${BACKLOG_HOLD_SECONDS}), attempts = attempts + 1
    WHERE id IN (
      SELECT id FROM lark_inbound_backlog
      WHERE claimed_until IS NULL OR claimed_until < now()
      ORDER BY id LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING id, installation_id, app_id, payload, attempts`);
  return res.rows
    .map((r) => ({ id: Number(r.id), installationId: r.installation_id, appId: r.app_id, payload: r.payload, attempts: r.attempts }))
    .sort((a, b) => a.id - b.id);
}

/** Renews the hold on parked events this processor is still working on. */
export async function renewParkedEventHolds(db: Db, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.execute(
    sql`UPDATE lark_inbound_backlog SET claimed_until = now() + make_interval(secs => ${BACKLOG_HOLD_SECONDS}) WHERE id = ANY(${sql.param(ids)}::bigint[])`,
  );
}

export async function deleteParkedEvent(db: Db, id: number): Promise<void> {
  await db.execute(sql`DELETE FROM lark_inbound_backlog WHERE id = ${id}`);
}

/** Leaves a parked event for a later pass (its dispatch asked for a retry). */
export async function retryParkedEventLater(db: Db, id: number, delaySeconds: number): Promise<void> {
  await db.execute(sql`UPDATE lark_inbound_backlog SET claimed_until = now() + make_interval(secs => ${delaySeconds}) WHERE id = ${id}`);
}
