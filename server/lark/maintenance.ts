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

/** One maintenance pass: purge what has outlived its use, and fill in what install could not learn. */
export async function runLarkMaintenance(deps: { db: Db; integration: LarkIntegration; logger: Logger; fetch?: FetchLike }): Promise<void> {
  const dedup = await purgeInboundDedup(deps.db);
  const tokens = await purgeExpiredBindingTokens(deps.db);
  const unionIds = await backfillBotUnionIds(deps);
  deps.logger.info({ dedup, tokens, unionIds }, 'lark maintenance done');
}
