import { and, eq, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { sleep, Wakeup } from '../../async/abortable';
import type { Db } from '../../db/client';
import { executePrepared } from '../../db/prepared';
import { perDb, StatementGroup } from '../../db/statement-group';
import type { PgListener } from '../../db/listen';
import { larkOutbox, type OutboxKind } from '../../db/schema';
import { LarkApiError, LarkHttpClient, type FetchLike } from '../api';
import { BINDING_TOKEN_TTL_MINUTES, hasLiveBindingPrompt, mintBindingToken } from '../binding/tokens';
import type { LarkIntegration } from '../integration';
import type { AppLocale } from '../../../i18n/locales';
import { answerAttachments, prepareAnswer, type PreparedAnswer } from './answer-media';
import { resolveBotLocale } from './bot-locale';
import { OUTBOX_WAKE_CHANNEL, type OutboxBody } from './outbox';
import { bindingPromptCard, errorCard, renderNotice, renderReply, renderWebQuestion, type RenderedMessage } from './render';
import { decideRetry, DELIVERY_HOLD_SECONDS, isInternalError } from './retry-policy';
import { planRunDelivery, withRetryButton, type DeliveryStep } from './run-delivery';

export type DelivererDeps = {
  db: Db;
  integration: LarkIntegration;
  logger: Logger;
  appUrl: string;
  fetch?: FetchLike;
  /** Observes each attempt's result and, once sent, the time since the row was written. */
  onResult?: (result: DeliveryResult, sentAfterMs?: number) => void;
};

export type DeliveryResult = 'sent' | 'failed' | 'skipped' | 'retry_scheduled' | 'busy';

type PartSent = { rowId: string; part: number; messageId: string | null; last: boolean };

/**
 * A part's progress, as one statement with the parts other rows sent meanwhile: the part count, its
 * message, and either the end of the row or a renewed hold for its next part.
 */
const outboxProgress = perDb(
  (db: Db) =>
    new StatementGroup<PartSent>(async (parts) => {
      await db.execute(sql`
        UPDATE lark_outbox o SET
          parts_sent = p.part + 1,
          lark_message_ids = CASE WHEN p.message_id IS NULL THEN o.lark_message_ids ELSE array_append(o.lark_message_ids, p.message_id) END,
          status = CASE WHEN p.last THEN 'sent' ELSE o.status END,
          sending_until = CASE WHEN p.last THEN NULL ELSE now() + make_interval(secs => ${DELIVERY_HOLD_SECONDS}) END,
          sent_at = CASE WHEN p.last THEN now() ELSE o.sent_at END,
          last_error_code = CASE WHEN p.last THEN NULL ELSE o.last_error_code END,
          last_error = CASE WHEN p.last THEN NULL ELSE o.last_error END
        FROM unnest(${sql.param(parts.map((p) => p.rowId))}::uuid[], ${sql.param(parts.map((p) => p.part))}::int[],
          ${sql.param(parts.map((p) => p.messageId))}::text[], ${sql.param(parts.map((p) => p.last))}::boolean[]) AS p(id, part, message_id, last)
        WHERE o.id = p.id AND o.status = 'pending'`);
      return parts.map(() => undefined);
    }),
);

/** An outbox row held by this deliverer, with what sending needs of its installation. */
type ClaimedRow = {
  id: string;
  workspaceId: string;
  installationId: string;
  kind: OutboxKind;
  receiveIdType: 'chat_id' | 'open_id' | null;
  receiveId: string | null;
  replyToMessageId: string | null;
  replyInThread: boolean;
  larkOpenId: string | null;
  /** The agent run the row belongs to. */
  taskId: string | null;
  body: OutboxBody;
  attempts: number;
  partsSent: number;
  createdAt: Date;
  installation: { appId: string; status: string; appSecretCiphertext: string; region: 'feishu' | 'lark' } | null;
  /** The language the bot speaks, from the workspace's setting and the installation's brand, read with the claim. */
  locale: AppLocale;
};

type RawClaimedRow = {
  id: string;
  workspace_id: string;
  installation_id: string;
  kind: OutboxKind;
  receive_id_type: 'chat_id' | 'open_id' | null;
  receive_id: string | null;
  reply_to_message_id: string | null;
  reply_in_thread: boolean;
  lark_open_id: string | null;
  task_id: string | null;
  body: OutboxBody;
  attempts: number;
  parts_sent: number;
  created_at: string | Date;
  app_id: string | null;
  installation_status: string | null;
  app_secret_ciphertext: string | null;
  region: 'feishu' | 'lark' | null;
  lark_locale: string | null;
};

const toClaimed = (r: RawClaimedRow): ClaimedRow => ({
  id: r.id,
  workspaceId: r.workspace_id,
  installationId: r.installation_id,
  kind: r.kind,
  receiveIdType: r.receive_id_type,
  receiveId: r.receive_id,
  replyToMessageId: r.reply_to_message_id,
  replyInThread: r.reply_in_thread,
  larkOpenId: r.lark_open_id,
  taskId: r.task_id,
  body: r.body,
  attempts: r.attempts,
  partsSent: r.parts_sent,
  createdAt: new Date(r.created_at),
  installation:
    r.app_id === null ? null : { appId: r.app_id, status: r.installation_status!, appSecretCiphertext: r.app_secret_ciphertext!, region: r.region! },
  locale: resolveBotLocale(r.lark_locale, r.region),
});

/**
 * Holds the chosen rows for one attempt each (a hold that runs out hands a row back: a dead sender
 * needs no one to notice) and returns them with their installation, in one statement.
 */
async function claimRows(db: Db, which: ReturnType<typeof sql>): Promise<ClaimedRow[]> {
  const res = await executePrepared<RawClaimedRow>(db, sql`
    WITH claimed AS (
      UPDATE lark_outbox o SET sending_until = now() + make_interval(secs => ${DELIVERY_HOLD_SECONDS}), attempts = o.attempts + 1
      WHERE o.id IN (${which})
      RETURNING o.id, o.workspace_id, o.installation_id, o.kind, o.receive_id_type, o.receive_id, o.reply_to_message_id, o.reply_in_thread,
                o.lark_open_id, o.task_id, o.body, o.attempts, o.parts_sent, o.created_at, o.next_attempt_at
    )
    SELECT c.*, i.app_id, i.status AS installation_status, i.app_secret_ciphertext, i.region, w.lark_locale
    FROM claimed c LEFT JOIN lark_installation i ON i.id = c.installation_id LEFT JOIN workspace w ON w.id = c.workspace_id
    ORDER BY c.next_attempt_at`);
  return res.rows.map(toClaimed);
}

const unheld = sql`status = 'pending' AND (sending_until IS NULL OR sending_until < now())`;
const claimable = sql`${unheld} AND next_attempt_at <= now()`;

/** Up to `limit` due rows nobody holds, the longest waiting first. */
export function claimDueOutboxRows(db: Db, limit: number): Promise<ClaimedRow[]> {
  return claimRows(db, sql`SELECT id FROM lark_outbox WHERE ${claimable} ORDER BY next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED`);
}

async function renderRow(deps: DelivererDeps, row: ClaimedRow, answer: PreparedAnswer | null): Promise<RenderedMessage[] | 'skip'> {
  const body = row.body;
  switch (body.kind) {
    case 'agent_reply':
      return answer ? renderReply(answer.text, { imageKeys: answer.imageKeys }) : renderReply(body.text);
    case 'agent_error':
      // Rows written before the workspace setting carry the asker's locale; the setting decides now.
      return [errorCard({ agentName: body.agentName, reference: body.reference, locale: row.locale })];
    case 'binding_prompt': {
      if (await hasLiveBindingPrompt(deps.db, { installationId: row.installationId, larkOpenId: row.larkOpenId!, exceptOutboxId: row.id })) return 'skip';
      const token = await mintBindingToken(deps.db, deps.integration.box!, { workspaceId: row.workspaceId, installationId: row.installationId, larkOpenId: row.larkOpenId!, outboxId: row.id });
      const url = `${deps.appUrl.replace(/\/+$/, '')}/lark/bind?token=${encodeURIComponent(token)}`;
      return [bindingPromptCard({ agentName: body.agentName, workspaceName: body.workspaceName, url, ttlMinutes: BINDING_TOKEN_TTL_MINUTES, locale: row.locale })];
    }
    case 'agent_stopped':
    case 'retract_answer':
      // Operations on what a run left in Lark, not messages: planRunDelivery carries them out.
      return [];
    case 'web_question':
      return renderWebQuestion(body, row.locale);
    default:
      return [renderNotice(body, row.locale)];
  }
}

const uuidFor = (rowId: string, part: number) => (part === 0 ? rowId : `${rowId}-${part}`);

/** An answer's text with its images uploaded, and its other attachments as messages (see answer-media.ts). */
async function prepareRowAnswer(
  deps: DelivererDeps,
  row: ClaimedRow,
  uploader: LarkHttpClient,
  log: Logger,
  text: string,
  sendAs: (msgType: 'text' | 'image' | 'file', content: Record<string, string>, part: number) => Promise<string>,
): Promise<PreparedAnswer> {
  // The run counted its files when it stored the answer: none means nothing to look up.
  const counted = row.body.kind === 'agent_reply' ? row.body.agentFiles : undefined;
  const attachments = counted === 0 ? [] : await answerAttachments(deps.db, { workspaceId: row.workspaceId, taskId: row.taskId! });
  if (attachments.length === 0) return { text, imageKeys: new Set(), attachmentSteps: [] };
  return prepareAnswer(
    {
      db: deps.db,
      uploader,
      log,
      locale: row.locale,
      workspaceId: row.workspaceId,
      installationId: row.installationId,
      appUrl: deps.appUrl,
      extendHold: async (seconds) => {
        await deps.db
          .update(larkOutbox)
          .set({ sendingUntil: sql`now() + make_interval(secs => ${seconds})` })
          .where(and(eq(larkOutbox.id, row.id), eq(larkOutbox.status, 'pending')));
      },
      sendMessage: sendAs,
    },
    text,
    attachments,
  );
}

/**
 * Delivers one outbox row now (whatever its due time) if it is pending and nobody holds it. Each part carries Lark's idempotency
 * uuid derived from the row id, so a retry after a crash never sends twice. Never throws.
 */
export async function deliverOutboxRow(deps: DelivererDeps, outboxId: string): Promise<DeliveryResult> {
  let rows: ClaimedRow[];
  try {
    rows = await claimRows(deps.db, sql`SELECT id FROM lark_outbox WHERE id = ${outboxId} AND ${unheld} FOR UPDATE SKIP LOCKED`);
  } catch (err) {
    deps.logger.error({ err, outboxId }, 'claiming an outbox row failed; it is tried again later');
    deps.onResult?.('busy');
    return 'busy';
  }
  if (rows.length === 0) {
    deps.onResult?.('busy');
    return 'busy';
  }
  return deliverClaimedRow(deps, rows[0]);
}

/** Sends a row this deliverer holds and records the outcome; progress is recorded after every part. Never throws. */
async function deliverClaimedRow(deps: DelivererDeps, row: ClaimedRow): Promise<DeliveryResult> {
  let result: { status: DeliveryResult; sentAfterMs?: number };
  try {
    result = await attemptDelivery(deps, row);
  } catch (err) {
    // Not even the outcome could be recorded: the hold runs out and the row is claimed again.
    deps.logger.error({ err, outboxId: row.id }, 'outbox delivery failed before its outcome was recorded; it is retried when its hold ends');
    result = { status: 'busy' };
  }
  deps.onResult?.(result.status, result.sentAfterMs);
  return result.status;
}

async function attemptDelivery(deps: DelivererDeps, row: ClaimedRow): Promise<{ status: DeliveryResult; sentAfterMs?: number }> {
  const log = deps.logger.child({ outboxId: row.id, installationId: row.installationId, kind: row.kind });
  const finish = async (status: 'failed' | 'skipped', error: { code: number | null; message: string }) => {
    await deps.db
      .update(larkOutbox)
      .set({ status, sendingUntil: null, lastErrorCode: error.code, lastError: error.message })
      .where(eq(larkOutbox.id, row.id));
    return { status };
  };

  const installation = row.installation;
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
    requestTimeoutMs: deps.integration.httpTimeoutMs,
    logger: log,
    installationId: row.installationId,
    fetch: deps.fetch,
  });

  try {
    const sendAs = async (msgType: 'text' | 'interactive' | 'image' | 'file', content: Record<string, unknown>, part: number): Promise<string> => {
      const uuid = uuidFor(row.id, part);
      if (row.replyToMessageId) return (await client.reply(row.replyToMessageId, { msgType, content, replyInThread: row.replyInThread, uuid })).messageId;
      const to = [row.receiveIdType!, row.receiveId!] as const;
      if (msgType === 'text') return (await client.sendText(...to, (content as { text: string }).text, { uuid })).messageId;
      if (msgType === 'interactive') return (await client.sendCard(...to, content, { uuid })).messageId;
      return (await client.sendMedia(...to, msgType, content as Record<string, string>, { uuid })).messageId;
    };
    const send = (message: RenderedMessage, part: number) => sendAs(message.msgType, message.content, part);
    // A row of an agent run may close streamed cards and take the typing reaction off around its parts.
    const plan = await planRunDelivery({ db: deps.db, client, log, locale: row.locale, rowId: row.id, installationId: row.installationId }, row.body, (card, part) =>
      send({ msgType: 'interactive', content: card }, part),
    );
    await plan?.before();
    // An answer's images are uploaded before its text is split into parts, and its files follow the text.
    const answer = row.body.kind === 'agent_reply' && row.taskId ? await prepareRowAnswer(deps, row, client, log, row.body.text, sendAs) : null;
    let steps: DeliveryStep[];
    if (plan?.steps) {
      steps = plan.steps(answer);
    } else {
      const rendered = await renderRow(deps, row, answer);
      if (rendered === 'skip') return finish('skipped', { code: null, message: 'A binding prompt for this user is still live' });
      const retryOf = row.body.kind === 'agent_error' ? row.body.taskId : undefined;
      steps = rendered.map((message, part) => () =>
        send(message.msgType === 'interactive' && retryOf ? { ...message, content: withRetryButton(message.content, retryOf, row.locale) } : message, part),
      );
    }
    if (answer) {
      const textParts = steps.length;
      steps = [...steps, ...answer.attachmentSteps.map((step, i) => () => step(textParts + i))];
    }
    const progress = outboxProgress(deps.db);
    for (let part = row.partsSent; part < steps.length; part++) {
      const messageId = await steps[part]();
      await progress.submit({ rowId: row.id, part, messageId, last: part === steps.length - 1 });
    }
    if (steps.length === 0) {
      await deps.db
        .update(larkOutbox)
        .set({ status: 'sent', sendingUntil: null, sentAt: sql`now()`, lastErrorCode: null, lastError: null })
        .where(and(eq(larkOutbox.id, row.id), eq(larkOutbox.status, 'pending')));
    }
    // Taking the typing reaction off is best effort: it does not hold this send's slot.
    if (plan) void plan.after().catch((err) => log.info({ err }, 'finishing touches after a delivery failed'));
    log.info({ parts: steps.length }, 'lark message delivered');
    return { status: 'sent', sentAfterMs: Date.now() - row.createdAt.getTime() };
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
    await deps.db
      .update(larkOutbox)
      .set({ sendingUntil: null, nextAttemptAt: sql`now() + make_interval(secs => ${decision.delayMs / 1000})`, lastErrorCode: code, lastError: description })
      .where(and(eq(larkOutbox.id, row.id), eq(larkOutbox.status, 'pending')));
    log.info({ code, delayMs: Math.round(decision.delayMs) }, 'lark message will be retried');
    return { status: 'retry_scheduled' };
  }
}

export type OutboxDelivererOptions = DelivererDeps & {
  listener: PgListener;
  /** Claims go through this (default `db`), so sends recording their progress never hold back the next claim. */
  claimDb?: Db;
  /** Sends in flight at once; claims never take more than what is free. */
  maxInFlight: number;
  /** How often an idle deliverer looks for rows that became due (scheduled retries, handed-back holds). */
  pollIntervalMs: number;
};

/** Rows claimed per statement: large enough to batch a burst, small enough to share it between workers. */
const CLAIM_BATCH = 32;
/** How long a woken deliverer lets further wake-ups gather before it claims. */
const CLAIM_COALESCE_MS = 15;

/**
 * Delivers due outbox rows until the signal aborts: claims what is due (woken by the NOTIFY of every
 * new row, else by its poll), sends up to `maxInFlight` at once, and on abort lets the sends in
 * flight finish (each is bounded by the HTTP timeout; an unfinished one is handed back by its hold).
 */
export async function runOutboxDeliverer(opts: OutboxDelivererOptions, signal: AbortSignal): Promise<void> {
  const wakeup = new Wakeup();
  const unsubscribe = opts.listener.subscribe(OUTBOX_WAKE_CHANNEL, { onNotify: () => wakeup.notify(), onResync: () => wakeup.notify() });
  const inFlight = new Set<Promise<unknown>>();
  try {
    while (!signal.aborted) {
      const free = opts.maxInFlight - inFlight.size;
      if (free <= 0) {
        await Promise.race([...inFlight, sleep(opts.pollIntervalMs, signal)]);
        continue;
      }
      const want = Math.min(free, CLAIM_BATCH);
      let rows: ClaimedRow[];
      try {
        rows = await claimDueOutboxRows(opts.claimDb ?? opts.db, want);
      } catch (err) {
        opts.logger.warn({ err }, 'claiming outbox rows failed; trying again shortly');
        await sleep(opts.pollIntervalMs, signal);
        continue;
      }
      for (const row of rows) {
        const sending = deliverClaimedRow(opts, row).finally(() => inFlight.delete(sending));
        inFlight.add(sending);
      }
      // A full batch means more may be due: claim again at once. Otherwise wait for a wake-up, then
      // a moment more, so a burst of new rows costs one claim.
      if (rows.length < want) {
        await wakeup.wait(opts.pollIntervalMs, signal);
        await sleep(CLAIM_COALESCE_MS, signal);
      }
    }
  } finally {
    unsubscribe();
    await Promise.allSettled([...inFlight]);
  }
}
