import { and, eq, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client';
import { larkInstallation, larkOutbox } from '../../db/schema';
import type { JobEnqueuer } from '../../jobs/queue';
import { LarkApiError, LarkHttpClient, type FetchLike } from '../api';
import { BINDING_TOKEN_TTL_MINUTES, hasLiveBindingPrompt, mintBindingToken } from '../binding/tokens';
import type { LarkIntegration } from '../integration';
import type { OutboxBody } from './outbox';
import { bindingPromptCard, errorCard, renderNotice, renderReply, type RenderedMessage } from './render';
import { decideRetry, DELIVERY_HOLD_SECONDS, isInternalError } from './retry-policy';

export type DelivererDeps = {
  db: Db;
  integration: LarkIntegration;
  jobs: JobEnqueuer;
  logger: Logger;
  appUrl: string;
  fetch?: FetchLike;
  /** Observes each attempt's result and, once sent, the time since the row was written. */
  onResult?: (result: DeliveryResult, sentAfterMs?: number) => void;
};

export type DeliveryResult = 'sent' | 'failed' | 'skipped' | 'retry_scheduled' | 'busy';

type OutboxRow = typeof larkOutbox.$inferSelect;

async function renderRow(deps: DelivererDeps, row: OutboxRow): Promise<RenderedMessage[] | 'skip'> {
  const body = row.body as OutboxBody;
  switch (body.kind) {
    case 'agent_reply':
      return renderReply(body.text);
    case 'agent_error':
      return [errorCard(body)];
    case 'binding_prompt': {
      if (await hasLiveBindingPrompt(deps.db, { installationId: row.installationId, larkOpenId: row.larkOpenId!, exceptOutboxId: row.id })) return 'skip';
      const token = await mintBindingToken(deps.db, deps.integration.box!, { workspaceId: row.workspaceId, installationId: row.installationId, larkOpenId: row.larkOpenId!, outboxId: row.id });
      const url = `${deps.appUrl.replace(/\/+$/, '')}/lark/bind?token=${encodeURIComponent(token)}`;
      return [bindingPromptCard({ agentName: body.agentName, workspaceName: body.workspaceName, url, ttlMinutes: BINDING_TOKEN_TTL_MINUTES })];
    }
    default:
      return [renderNotice(body)];
  }
}

const uuidFor = (rowId: string, part: number) => (part === 0 ? rowId : `${rowId}-${part}`);

/** Extends this attempt's hold before the next part: the hold is a heartbeat, not a long lease. */
async function renewHold(db: Db, rowId: string): Promise<void> {
  await db
    .update(larkOutbox)
    .set({ sendingUntil: sql`now() + make_interval(secs => ${DELIVERY_HOLD_SECONDS})` })
    .where(and(eq(larkOutbox.id, rowId), eq(larkOutbox.status, 'pending')));
}

/**
 * Delivers one outbox row. Each part carries Lark's idempotency uuid derived from the row id, so a
 * retry after a crash never sends twice; progress is recorded after every part. Never throws: a
 * failure it cannot even record leaves the row held, and the reconciler hands it back once the
 * hold runs out.
 */
export async function deliverOutboxRow(deps: DelivererDeps, outboxId: string): Promise<DeliveryResult> {
  let result: { status: DeliveryResult; sentAfterMs?: number };
  try {
    result = await attemptDelivery(deps, outboxId);
  } catch (err) {
    deps.logger.error({ err, outboxId }, 'outbox delivery failed before its outcome was recorded; the reconciler will retry it');
    result = { status: 'busy' };
  }
  deps.onResult?.(result.status, result.sentAfterMs);
  return result.status;
}

async function attemptDelivery(deps: DelivererDeps, outboxId: string): Promise<{ status: DeliveryResult; sentAfterMs?: number }> {
  const [row] = await deps.db
    .update(larkOutbox)
    .set({ sendingUntil: sql`now() + make_interval(secs => ${DELIVERY_HOLD_SECONDS})`, attempts: sql`${larkOutbox.attempts} + 1` })
    .where(and(eq(larkOutbox.id, outboxId), eq(larkOutbox.status, 'pending'), sql`(${larkOutbox.sendingUntil} IS NULL OR ${larkOutbox.sendingUntil} < now())`))
    .returning();
  if (!row) return { status: 'busy' };
  const log = deps.logger.child({ outboxId: row.id, installationId: row.installationId, kind: row.kind });
  const finish = async (status: 'sent' | 'failed' | 'skipped', error?: { code: number | null; message: string }) => {
    await deps.db
      .update(larkOutbox)
      .set({ status, sendingUntil: null, sentAt: status === 'sent' ? sql`now()` : null, lastErrorCode: error?.code ?? null, lastError: error?.message ?? null })
      .where(eq(larkOutbox.id, row.id));
    return { status, ...(status === 'sent' && { sentAfterMs: Date.now() - row.createdAt.getTime() }) };
  };

  const [installation] = await deps.db.select().from(larkInstallation).where(eq(larkInstallation.id, row.installationId));
  if (!installation || installation.status !== 'active') return finish('skipped', { code: null, message: 'The bot was disconnected before this message was sent' });
  let appSecret: string;
  try {
    appSecret = deps.integration.box!.open(installation.appSecretCiphertext);
  } catch {
    return finish('failed', { code: null, message: 'The app secret cannot be decrypted with the configured LARK_SECRET_KEY' });
  }
  const client = new LarkHttpClient({
    appId: installation.appId,
    appSecret,
    region: installation.region,
    hosts: deps.integration.hosts,
    fetch: deps.fetch,
    requestTimeoutMs: deps.integration.httpTimeoutMs,
    logger: log,
    installationId: installation.id,
  });

  try {
    const rendered = await renderRow(deps, row);
    if (rendered === 'skip') return finish('skipped', { code: null, message: 'A binding prompt for this user is still live' });
    for (let part = row.partsSent; part < rendered.length; part++) {
      if (part > row.partsSent) await renewHold(deps.db, row.id);
      const message = rendered[part];
      const uuid = uuidFor(row.id, part);
      const sent = row.replyToMessageId
        ? await client.reply(row.replyToMessageId, { msgType: message.msgType, content: message.content, replyInThread: row.replyInThread, uuid })
        : message.msgType === 'text'
          ? await client.sendText(row.receiveIdType!, row.receiveId!, message.content.text, { uuid })
          : await client.sendCard(row.receiveIdType!, row.receiveId!, message.content, { uuid });
      await deps.db
        .update(larkOutbox)
        .set({ partsSent: part + 1, larkMessageIds: sql`array_append(${larkOutbox.larkMessageIds}, ${sent.messageId})` })
        .where(eq(larkOutbox.id, row.id));
    }
    log.info({ parts: rendered.length }, 'lark message delivered');
    return finish('sent');
  } catch (err) {
    const code = err instanceof LarkApiError ? err.code : null;
    // Our own failures stay in the logs; the admin listing gets a description, not driver text.
    const internal = isInternalError(err);
    if (internal) log.error({ err }, 'sending a lark message failed on our side');
    const description = internal ? 'Temporary internal error while sending; retrying' : err instanceof Error ? err.message : String(err);
    const decision = decideRetry(err, row.attempts);
    if (!decision.retry && decision.reason === 'permanent') {
      log.warn({ code }, 'lark message failed permanently');
      return finish('failed', { code, message: description });
    }
    if (!decision.retry) {
      log.warn({ code, attempts: row.attempts }, 'lark message failed after retries');
      return finish('failed', { code, message: `Gave up after ${row.attempts} attempts: ${description}` });
    }
    await deps.db.transaction(async (tx) => {
      await tx.update(larkOutbox).set({ sendingUntil: null, lastErrorCode: code, lastError: description }).where(eq(larkOutbox.id, row.id));
      await deps.jobs.enqueueOutbox(tx, row.id, { startAfter: new Date(Date.now() + decision.delayMs) });
    });
    log.info({ code, delayMs: Math.round(decision.delayMs) }, 'lark message will be retried');
    return { status: 'retry_scheduled' };
  }
}
