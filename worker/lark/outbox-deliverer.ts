import { and, eq, isNull, ne, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../server/db/client';
import { larkBindingToken, larkInstallation, larkOutbox } from '../../server/db/schema';
import type { JobEnqueuer } from '../../server/jobs/queue';
import { isRetryableLarkError, LarkApiError, LarkHttpClient, LarkRateLimitError, TOKEN_INVALID_CODES, type FetchLike } from '../../server/lark/api';
import { BINDING_TOKEN_TTL_MINUTES, mintBindingToken } from '../../server/lark/binding/tokens';
import type { LarkIntegration } from '../../server/lark/integration';
import type { OutboxBody } from '../../server/lark/outbound/outbox';
import { bindingPromptCard, errorCard, renderReply, type RenderedMessage } from '../../server/lark/outbound/render';

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

/** Attempts before a retryable failure is recorded as failed. With the capped backoff below: roughly 10 minutes. */
export const MAX_DELIVERY_ATTEMPTS = 14;
const HOLD_SECONDS = 60;
// Lark's IM rate-limit code (the HTTP-level one is a LarkRateLimitError already).
const IM_RATE_LIMITED = 230020;

export function retryDelayMs(attempts: number): number {
  const base = Math.min(60_000, 1000 * 2 ** Math.max(0, attempts - 1));
  return base / 2 + Math.random() * (base / 2);
}

type OutboxRow = typeof larkOutbox.$inferSelect;

function plain(text: string): RenderedMessage {
  return { msgType: 'text', content: { text } };
}

async function renderRow(deps: DelivererDeps, row: OutboxRow): Promise<RenderedMessage[] | 'skip'> {
  const body = row.body as OutboxBody;
  switch (body.kind) {
    case 'agent_reply':
      return renderReply(body.text);
    case 'agent_error':
      return [errorCard(body.agentName, body.error)];
    case 'agent_offline':
      return [plain(`${body.agentName} is offline: it has no runtime configured in Larkspur. Ask its owner to set one up.`)];
    case 'agent_archived':
      return [plain(`${body.agentName} has been archived in Larkspur and no longer answers messages.`)];
    case 'issue_created':
      return [plain(`Created ${body.identifier} — ${body.title}\n${body.url}`)];
    case 'issue_usage':
      return [plain('Usage: /issue <title>\nAdd a description on the lines below the title. A bare /issue turns your previous message into the issue.')];
    case 'binding_prompt': {
      // Another prompt of this user is still live: one prompt at a time.
      const [live] = await deps.db
        .select({ hash: larkBindingToken.tokenHash })
        .from(larkBindingToken)
        .where(
          and(
            eq(larkBindingToken.installationId, row.installationId),
            eq(larkBindingToken.larkOpenId, row.larkOpenId!),
            isNull(larkBindingToken.consumedAt),
            sql`${larkBindingToken.expiresAt} > now()`,
            ne(larkBindingToken.outboxId, row.id),
          ),
        )
        .limit(1);
      if (live) return 'skip';
      const token = await mintBindingToken(deps.db, { workspaceId: row.workspaceId, installationId: row.installationId, larkOpenId: row.larkOpenId!, outboxId: row.id });
      const url = `${deps.appUrl.replace(/\/+$/, '')}/lark/bind?token=${encodeURIComponent(token)}`;
      return [bindingPromptCard({ agentName: body.agentName, workspaceName: body.workspaceName, url, ttlMinutes: BINDING_TOKEN_TTL_MINUTES })];
    }
  }
}

const uuidFor = (rowId: string, part: number) => (part === 0 ? rowId : `${rowId}-${part}`);

/**
 * Delivers one outbox row. Each part carries Lark's idempotency uuid derived from the row id, so a
 * retry after a crash never sends twice; progress is recorded after every part.
 */
export async function deliverOutboxRow(deps: DelivererDeps, outboxId: string): Promise<DeliveryResult> {
  const result = await attemptDelivery(deps, outboxId);
  deps.onResult?.(result.status, result.sentAfterMs);
  return result.status;
}

async function attemptDelivery(deps: DelivererDeps, outboxId: string): Promise<{ status: DeliveryResult; sentAfterMs?: number }> {
  const [row] = await deps.db
    .update(larkOutbox)
    .set({ sendingUntil: sql`now() + make_interval(secs => ${HOLD_SECONDS})`, attempts: sql`${larkOutbox.attempts} + 1` })
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
    const retryable = isRetryableLarkError(err) || code === IM_RATE_LIMITED || (code !== null && TOKEN_INVALID_CODES.has(code));
    const description = err instanceof Error ? err.message : String(err);
    if (!retryable) {
      log.warn({ code }, 'lark message failed permanently');
      return finish('failed', { code, message: description });
    }
    if (row.attempts >= MAX_DELIVERY_ATTEMPTS) {
      log.warn({ code, attempts: row.attempts }, 'lark message failed after retries');
      return finish('failed', { code, message: `Gave up after ${row.attempts} attempts: ${description}` });
    }
    const delay = err instanceof LarkRateLimitError ? Math.max(err.retryAfterMs, 200) : retryDelayMs(row.attempts);
    await deps.db.transaction(async (tx) => {
      await tx.update(larkOutbox).set({ sendingUntil: null, lastErrorCode: code, lastError: description }).where(eq(larkOutbox.id, row.id));
      await deps.jobs.enqueueOutbox(tx, row.id, { startAfter: new Date(Date.now() + delay) });
    });
    log.info({ code, delayMs: Math.round(delay) }, 'lark message will be retried');
    return { status: 'retry_scheduled' };
  }
}
