import { sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import { NODE_STALE_AFTER_MS } from '../../ops/node-registry';

/**
 * A claim older than this with no durable outcome belongs to a worker that died; it may be re-taken.
 * Every dispatch is bounded by its budget (2 s on the ACK path, 15 s for parked events), so a live
 * holder never holds a claim this long.
 */
export const STALE_CLAIM_SECONDS = 20;
/** Claims of one message that ended without an outcome; the next one records a drop instead. */
export const MAX_DISPATCH_ATTEMPTS = 8;

export type InboundClaim = { claimed: string; attempts: number } | { processed: true } | { inFlight: true };

const ABANDONED_LIMIT = 10_000;

/**
 * Claims this process gave up but could not release (the database was unreachable at that moment).
 * Lark redelivers to the connection that holds the bot, which is this process: the redelivery may
 * re-take such a claim at once instead of waiting for it to go stale, which could outlast Lark's
 * redeliveries. Process-local by design: another process cannot know the claim is dead.
 */
export class AbandonedClaims {
  private readonly tokens = new Map<string, string>();

  // Keyed by the app: a redelivery is matched before its installation is looked up.
  private static key(input: { appId: string; messageId: string }) {
    return `${input.appId}\u0000${input.messageId}`;
  }

  add(claim: { appId: string; messageId: string; claimToken: string }): void {
    if (this.tokens.size >= ABANDONED_LIMIT) this.tokens.delete(this.tokens.keys().next().value!);
    this.tokens.set(AbandonedClaims.key(claim), claim.claimToken);
  }

  take(input: { appId: string; messageId: string }): string | null {
    const key = AbandonedClaims.key(input);
    const token = this.tokens.get(key) ?? null;
    this.tokens.delete(key);
    return token;
  }
}

/**
 * Claims (installation, message_id) for processing. Re-taking a stale or released claim rotates the
 * token, so the old holder's late write can no longer commit, and counts the attempt. Otherwise the
 * message either already reached a durable outcome (a replay) or another worker is on it right now
 * (Lark must redeliver later).
 */
export async function claimInboundMessage(
  db: DbOrTx,
  input: { installationId: string; messageId: string; abandonedToken?: string | null; nodeId?: string | null },
): Promise<InboundClaim> {
  const res = await db.execute<{ claim_token: string; attempts: number }>(
    claimStatement(sql`SELECT ${input.installationId}::uuid`, input.messageId, input.abandonedToken ?? null, input.nodeId ?? null),
  );
  const row = res.rows[0];
  if (row) return { claimed: row.claim_token, attempts: row.attempts };
  const existing = await db.execute<{ processed: boolean }>(sql`
    SELECT processed_at IS NOT NULL AS processed FROM lark_inbound_message_dedup
    WHERE installation_id = ${input.installationId} AND message_id = ${input.messageId}`);
  return existing.rows[0]?.processed ? { processed: true } : { inFlight: true };
}

/**
 * The claim as one INSERT (for the installation(s) `installationIds` selects), returning the new
 * token and attempt count, or nothing when the message is processed or held by a live claim. A
 * claim is live while it is younger than STALE_CLAIM_SECONDS and its node still heartbeats: the
 * claim of a worker that was killed mid-dispatch is re-taken as soon as its node is known dead,
 * before Lark's redeliveries run out.
 */
export function claimStatement(installationIds: SQL, messageId: string, abandonedToken: string | null, nodeId: string | null = null): SQL {
  return sql`
    INSERT INTO lark_inbound_message_dedup (installation_id, message_id, claim_token, claimed_by)
    SELECT ids.id, ${messageId}, gen_random_uuid(), ${nodeId}::text FROM (${installationIds}) AS ids(id)
    ON CONFLICT (installation_id, message_id) DO UPDATE
      SET received_at = now(), claim_token = gen_random_uuid(), attempts = lark_inbound_message_dedup.attempts + 1, claimed_by = EXCLUDED.claimed_by
      WHERE lark_inbound_message_dedup.processed_at IS NULL
        AND (lark_inbound_message_dedup.received_at < now() - make_interval(secs => ${STALE_CLAIM_SECONDS})
             OR lark_inbound_message_dedup.claim_token = ${abandonedToken}::uuid
             OR (lark_inbound_message_dedup.claimed_by IS NOT NULL AND lark_inbound_message_dedup.claimed_by IS DISTINCT FROM ${nodeId}::text
                 AND NOT EXISTS (SELECT 1 FROM worker_node n WHERE n.node_id = lark_inbound_message_dedup.claimed_by
                                   AND n.heartbeat_at > now() - make_interval(secs => ${NODE_STALE_AFTER_MS / 1000}))))
    RETURNING claim_token, attempts`;
}

/** Makes a claim terminal; 0 rows means the claim was re-taken by someone else (token rotated). */
export async function markInboundProcessed(db: DbOrTx, input: { installationId: string; messageId: string; claimToken: string }): Promise<number> {
  const res = await db.execute(sql`
    UPDATE lark_inbound_message_dedup SET processed_at = now()
    WHERE installation_id = ${input.installationId} AND message_id = ${input.messageId}
      AND claim_token = ${input.claimToken} AND processed_at IS NULL`);
  return res.rowCount ?? 0;
}

/**
 * Gives a claim back after a failure before any durable outcome, so the redelivery proceeds at once.
 * The token rotates (a late write of the old holder cannot commit) and the attempt stays counted.
 */
export async function releaseInboundClaim(db: DbOrTx, input: { installationId: string; messageId: string; claimToken: string }): Promise<number> {
  const res = await db.execute(sql`
    UPDATE lark_inbound_message_dedup SET claim_token = gen_random_uuid(), received_at = '-infinity'
    WHERE installation_id = ${input.installationId} AND message_id = ${input.messageId}
      AND claim_token = ${input.claimToken} AND processed_at IS NULL`);
  return res.rowCount ?? 0;
}
