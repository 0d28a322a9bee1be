import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client';
import { larkInstallation } from '../db/schema';
import { LarkHttpClient, type FetchLike } from './api';
import type { LarkIntegration } from './integration';

/** Dedup rows only guard against replays, which Lark stops after a day at most. */
export const DEDUP_RETENTION_HOURS = 24;

export async function purgeInboundDedup(db: Db, retentionHours = DEDUP_RETENTION_HOURS): Promise<number> {
  const res = await db.execute(sql`DELETE FROM lark_inbound_message_dedup WHERE received_at < now() - make_interval(hours => ${retentionHours})`);
  return res.rowCount ?? 0;
}

export async function purgeExpiredBindingTokens(db: Db): Promise<number> {
  const res = await db.execute(sql`DELETE FROM lark_binding_token WHERE expires_at < now()`);
  return res.rowCount ?? 0;
}

/**
 * Learns the bot union_id of installations that lack it (the contact scope was denied at install, or
 * Lark failed then). Soft-fails per installation: routing falls back to open_id meanwhile.
 */
export async function backfillBotUnionIds(deps: { db: Db; integration: LarkIntegration; logger: Logger; fetch?: FetchLike }): Promise<number> {
  const rows = await deps.db
    .select()
    .from(larkInstallation)
    .where(and(eq(larkInstallation.status, 'active'), isNull(larkInstallation.botUnionId)));
  let filled = 0;
  for (const row of rows) {
    try {
      const client = new LarkHttpClient({
        appId: row.appId,
        appSecret: deps.integration.box!.open(row.appSecretCiphertext),
        region: row.region,
        hosts: deps.integration.hosts,
        fetch: deps.fetch,
        requestTimeoutMs: deps.integration.httpTimeoutMs,
        logger: deps.logger,
      });
      const unionId = (await client.getUser(row.botOpenId)).unionId;
      if (!unionId) continue;
      await deps.db
        .update(larkInstallation)
        .set({ botUnionId: unionId, updatedAt: new Date() })
        .where(and(eq(larkInstallation.id, row.id), isNull(larkInstallation.botUnionId)));
      filled += 1;
    } catch (err) {
      deps.logger.warn({ installationId: row.id, err }, 'bot union_id backfill failed; will retry later');
    }
  }
  return filled;
}

/** Rows deleted per statement: short transactions, so a large backlog never holds long locks or bloats one WAL burst. */
export const RETENTION_BATCH = 1_000;
/** Batches per table and run; what is left waits for the next hourly run. */
export const RETENTION_MAX_BATCHES = 100;

/**
 * Deletes outbox rows that reached an outcome (sent, failed, skipped) more than `days` ago.
 * Pending rows are live work and are never purged, whatever their age.
 */
export async function purgeFinishedOutbox(db: Db, days: number, batch = RETENTION_BATCH, maxBatches = RETENTION_MAX_BATCHES): Promise<number> {
  return purgeInBatches(
    () =>
      db.execute(sql`
        DELETE FROM lark_outbox WHERE id IN (
          SELECT id FROM lark_outbox
          WHERE status IN ('sent', 'failed', 'skipped') AND created_at < now() - make_interval(days => ${days})
          LIMIT ${batch})`),
    batch,
    maxBatches,
  );
}

/** Deletes audit rows (dropped events) received more than `days` ago. */
export async function purgeInboundAudit(db: Db, days: number, batch = RETENTION_BATCH, maxBatches = RETENTION_MAX_BATCHES): Promise<number> {
  return purgeInBatches(
    () =>
      db.execute(sql`
        DELETE FROM lark_inbound_audit WHERE id IN (
          SELECT id FROM lark_inbound_audit WHERE received_at < now() - make_interval(days => ${days}) ORDER BY id LIMIT ${batch})`),
    batch,
    maxBatches,
  );
}

/**
 * Files an agent produced for an answer that was never stored (its run crashed or was taken over
 * after storing them) belong to no message: a day later nobody will store them any more.
 */
export async function purgeOrphanAgentFiles(db: Db, batch = RETENTION_BATCH, maxBatches = RETENTION_MAX_BATCHES): Promise<number> {
  return purgeInBatches(
    () =>
      db.execute(sql`
        DELETE FROM attachment WHERE id IN (
          SELECT id FROM attachment WHERE chat_message_id IS NULL AND created_at < now() - interval '1 day' LIMIT ${batch})`),
    batch,
    maxBatches,
  );
}

async function purgeInBatches(deleteBatch: () => Promise<{ rowCount: number | null }>, batch: number, maxBatches: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < maxBatches; i++) {
    const deleted = (await deleteBatch()).rowCount ?? 0;
    total += deleted;
    if (deleted < batch) break;
  }
  return total;
}

/** The retention job: outbox and audit rows older than their configured number of days. */
export async function runLarkRetention(deps: { db: Db; logger: Logger; outboxDays: number; auditDays: number }): Promise<void> {
  const outbox = await purgeFinishedOutbox(deps.db, deps.outboxDays);
  const audit = await purgeInboundAudit(deps.db, deps.auditDays);
  const orphanFiles = await purgeOrphanAgentFiles(deps.db);
  deps.logger.info({ outbox, audit, orphanFiles }, 'lark retention done');
}

/** One maintenance pass: purge what has outlived its use, and fill in what install could not learn. */
export async function runLarkMaintenance(deps: { db: Db; integration: LarkIntegration; logger: Logger; fetch?: FetchLike }): Promise<void> {
  const dedup = await purgeInboundDedup(deps.db);
  const tokens = await purgeExpiredBindingTokens(deps.db);
  const unionIds = await backfillBotUnionIds(deps);
  deps.logger.info({ dedup, tokens, unionIds }, 'lark maintenance done');
}
