import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';

/** A claim older than this with no durable outcome belongs to a worker that died; it may be re-taken. */
export const STALE_CLAIM_SECONDS = 60;

export type InboundClaim = { claimed: string } | { processed: true } | { inFlight: true };

/**
 * Claims (installation, message_id) for processing. Re-taking a stale claim rotates the token, so
 * the old holder's late write can no longer commit. Otherwise the message either already reached a
 * durable outcome (a replay) or another worker is on it right now (Lark must redeliver later).
 */
export async function claimInboundMessage(db: DbOrTx, input: { installationId: string; messageId: string }): Promise<InboundClaim> {
  const res = await db.execute<{ claim_token: string }>(sql`
    INSERT INTO lark_inbound_message_dedup (installation_id, message_id, claim_token)
    VALUES (${input.installationId}, ${input.messageId}, gen_random_uuid())
    ON CONFLICT (installation_id, message_id) DO UPDATE
      SET received_at = now(), claim_token = gen_random_uuid()
      WHERE lark_inbound_message_dedup.processed_at IS NULL
        AND lark_inbound_message_dedup.received_at < now() - make_interval(secs => ${STALE_CLAIM_SECONDS})
    RETURNING claim_token`);
  const token = res.rows[0]?.claim_token;
  if (token) return { claimed: token };
  const existing = await db.execute<{ processed: boolean }>(sql`
    SELECT processed_at IS NOT NULL AS processed FROM lark_inbound_message_dedup
    WHERE installation_id = ${input.installationId} AND message_id = ${input.messageId}`);
  // Gone between the two statements (released): treat as in flight so Lark tries again.
  return existing.rows[0]?.processed ? { processed: true } : { inFlight: true };
}

/** Makes a claim terminal; 0 rows means the claim was re-taken by someone else (token rotated). */
export async function markInboundProcessed(db: DbOrTx, input: { installationId: string; messageId: string; claimToken: string }): Promise<number> {
  const res = await db.execute(sql`
    UPDATE lark_inbound_message_dedup SET processed_at = now()
    WHERE installation_id = ${input.installationId} AND message_id = ${input.messageId}
      AND claim_token = ${input.claimToken} AND processed_at IS NULL`);
  return res.rowCount ?? 0;
}

/** Gives a claim back after an infrastructure failure before any durable outcome, so the redelivery proceeds at once. */
export async function releaseInboundClaim(db: DbOrTx, input: { installationId: string; messageId: string; claimToken: string }): Promise<number> {
  const res = await db.execute(sql`
    DELETE FROM lark_inbound_message_dedup
    WHERE installation_id = ${input.installationId} AND message_id = ${input.messageId}
      AND claim_token = ${input.claimToken} AND processed_at IS NULL`);
  return res.rowCount ?? 0;
}
