import { sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client';
import { perDb, StatementGroup } from '../../db/statement-group';

/** Wakes backlog processors when an event was parked. */
export const LARK_BACKLOG_CHANNEL = 'larkspur_lark_backlog';
/**
 * How long a processor holds a parked event before another may take it. The holder renews the hold
 * while it works (every BACKLOG_HOLD_RENEW_MS), so a dead processor's events come back within this.
 */
export const BACKLOG_HOLD_SECONDS = 20;
export const BACKLOG_HOLD_RENEW_MS = 5_000;

export type BacklogEvent = { id: number; installationId: string; appId: string; payload: string; attempts: number };

type ParkInput = {
  installationId: string;
  appId: string;
  payload: string;
  /** Parked already held, so no processor takes it until `releaseHeldEvents` (or the hold runs out). */
  held?: boolean;
};

/** The parking statement of a pool: events parked at the same moment share it. */
const parking = perDb(
  (db: DbOrTx) =>
    new StatementGroup<ParkInput, number>(async (events) => {
      // Ids come from a sequence, taken in the order rows are inserted: ordered, they match the input.
      const res = await db.execute<{ id: string }>(sql`
        WITH input AS (
          SELECT * FROM unnest(${sql.param(events.map((e) => e.installationId))}::uuid[], ${sql.param(events.map((e) => e.appId))}::text[],
            ${sql.param(events.map((e) => e.payload))}::text[], ${sql.param(events.map((e) => e.held === true))}::boolean[])
            WITH ORDINALITY AS u(installation_id, app_id, payload, held, n)
        ), parked AS (
          INSERT INTO lark_inbound_backlog (installation_id, app_id, payload, claimed_until)
          SELECT installation_id, app_id, payload, CASE WHEN held THEN now() + make_interval(secs => ${BACKLOG_HOLD_SECONDS}) END FROM input ORDER BY n
          RETURNING id
        ), woken AS (
          SELECT pg_notify(${LARK_BACKLOG_CHANNEL}, '')
        )
        SELECT id FROM parked, woken ORDER BY id`);
      return res.rows.map((r) => Number(r.id));
    }),
);

/**
 * Parks an event durably, in one statement with the wake-up of the processors, so it can be ACKed
 * now and dispatched when a slot frees up. Returns its id. Events parked at the same moment (a
 * burst, when every slot is busy) share the statement.
 */
export function parkInboundEvent(db: DbOrTx, input: ParkInput): Promise<number> {
  return parking(db).submit(input);
}

/**
 * Lets processors take events that were parked held (and wakes them). Only events nobody has taken
 * yet: once a hold ran out, a processor may hold it instead.
 */
export async function releaseHeldEvents(db: DbOrTx, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.execute(sql`
    WITH released AS (
      UPDATE lark_inbound_backlog SET claimed_until = NULL WHERE id = ANY(${sql.param(ids)}::bigint[]) AND attempts = 0 RETURNING id
    )
    SELECT pg_notify(${LARK_BACKLOG_CHANNEL}, '') FROM (SELECT 1 FROM released LIMIT 1) AS any_released`);
}

/** Which of these parked events still exist (not yet dispatched by anyone). */
export async function stillParked(db: DbOrTx, ids: number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const res = await db.execute<{ id: string }>(sql`SELECT id FROM lark_inbound_backlog WHERE id = ANY(${sql.param(ids)}::bigint[])`);
  return new Set(res.rows.map((r) => Number(r.id)));
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
