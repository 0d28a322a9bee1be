import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { AppLocale } from '../../../i18n/locales';
import type { Db } from '../../db/client';
import { isRetryableLarkError, LarkApiError, LarkNetworkError, type LarkCard, type LarkHttpClient } from '../api';
import { botText } from './bot-text';
import type { PreparedAnswer } from './answer-media';
import type { OutboxBody, StreamRef, TypingRef } from './outbox';
import { markdownCard } from './render';
import { cardParts, closedCard, CLOSING_SEQUENCE, NOTE_ELEMENT_ID, streamingParts } from './stream-card';
import { streamCardRows, type StreamCardRow } from './stream-card-rows';

/** One message-sized step of a delivery: sends or closes one part and returns the Lark message it left, if any. */
export type DeliveryStep = () => Promise<string | null>;

/**
 * How a row that belongs to an agent run is delivered: steps counted as parts (none given: the row's
 * ordinary rendering), with work before and after. An answer's steps are made from its prepared
 * text (images uploaded after `before`, see answer-media.ts).
 */
export type RunDeliveryPlan = { before: () => Promise<void>; steps?: (answer: PreparedAnswer | null) => DeliveryStep[]; after: () => Promise<void> };

export type RunDeliveryDeps = { db: Db; client: LarkHttpClient; log: Logger; locale: AppLocale; rowId: string; installationId: string };

// Already gone: the card or message was deleted, or the question recalled. Nothing left to do to it.
const GONE_CODES = new Set([230011, 231003, 230050]);

/** A CardKit refusal that retrying cannot fix: the card falls back to a plain message. */
function isPermanentCardFailure(err: unknown): boolean {
  return err instanceof LarkApiError && !isRetryableLarkError(err) && err.code !== 230020 && err.code !== 200810 && !(err instanceof LarkNetworkError);
}

function streamCardsOf(db: Db, taskId: string): Promise<StreamCardRow[]> {
  return streamCardRows(db).ofTask(taskId);
}

function markCard(db: Db, cardId: string, state: 'finished' | 'interrupted'): Promise<void> {
  return streamCardRows(db).close(cardId, state);
}

/** Ends a card's streaming with a status line under what it shows (interrupted, stopped). Best effort: the answer does not depend on it. */
async function closeWithNote(deps: RunDeliveryDeps, card: StreamCardRow, note: string, state: 'finished' | 'interrupted'): Promise<void> {
  try {
    await deps.client.setCardElementContent(card.card_id, NOTE_ELEMENT_ID, { content: `<font color='grey'>${note}</font>`, sequence: CLOSING_SEQUENCE, uuid: `${deps.rowId}-n${card.part}`.slice(0, 50) });
    await deps.client.setCardSettings(card.card_id, { config: { streaming_mode: false, summary: { content: note } }, sequence: CLOSING_SEQUENCE + 1, uuid: `${deps.rowId}-s${card.part}`.slice(0, 50) });
  } catch (err) {
    if (!(err instanceof LarkApiError && GONE_CODES.has(err.code))) deps.log.info({ err, cardId: card.card_id }, 'could not mark a streaming card as ended');
  }
  await markCard(deps.db, card.card_id, state);
}

/** Cards of earlier attempts (a run that crashed or was handed back) that never closed are marked interrupted. */
async function closeAbandoned(deps: RunDeliveryDeps, cards: StreamCardRow[], keepAttempt: number | null): Promise<void> {
  const t = botText(deps.locale);
  for (const card of cards) {
    // The final answer closes the current run's cards that were sent. Every other open card is
    // closed here, also one without a recorded message: its run may have died right after sending it.
    if (card.state !== 'open' || (card.attempt === keepAttempt && card.lark_message_id !== null)) continue;
    await closeWithNote(deps, card, t('run.interrupted'), 'interrupted');
  }
}

async function removeTyping(deps: RunDeliveryDeps, typing: TypingRef | null | undefined): Promise<void> {
  if (!typing) return;
  try {
    await deps.client.deleteReaction(typing.messageId, typing.reactionId);
  } catch (err) {
    deps.log.info({ err }, 'could not take the typing reaction off');
  }
}

async function deleteMessage(deps: RunDeliveryDeps, messageId: string): Promise<void> {
  try {
    await deps.client.deleteMessage(messageId);
  } catch (err) {
    if (err instanceof LarkApiError && GONE_CODES.has(err.code)) return;
    throw err;
  }
}

/**
 * The final answer of a streamed run: each part closes the card that streamed it (the whole card is
 * replaced: final text with its uploaded images, streaming off, no Stop button), so the card shows
 * exactly the stored answer. A part with no card, or whose card Lark refuses to close, goes out as a
 * message of its own (the refused card is deleted, so the answer is never shown twice).
 */
function finalAnswerSteps(
  deps: RunDeliveryDeps,
  answer: Pick<PreparedAnswer, 'text' | 'imageKeys'>,
  stream: StreamRef | null | undefined,
  cards: StreamCardRow[],
  send: (card: LarkCard, part: number) => Promise<string>,
): DeliveryStep[] {
  const parts = cardParts(answer.text, { imageKeys: answer.imageKeys });
  // A card whose message was never sent (the send failed) shows nothing: its part goes out as a message.
  const mine = stream ? cards.filter((c) => c.attempt === stream.attempt && c.lark_message_id !== null) : [];
  // The streamed text split where the final one does not (images shown as marks while streaming are
  // longer once uploaded, or shorter): a card beyond the final parts would stay open, so it goes.
  const extra = mine.filter((c) => c.part >= parts.length && c.state === 'open');
  const dropExtra = async () => {
    for (const card of extra) {
      if (card.lark_message_id) await deleteMessage(deps, card.lark_message_id).catch((err) => deps.log.info({ err }, 'could not delete a streamed card the answer no longer needs'));
      await markCard(deps.db, card.card_id, 'interrupted');
    }
  };
  return parts.map((part, i) => async () => {
    const sent = await finalPart(deps, part, i, mine, send);
    if (i === parts.length - 1) await dropExtra();
    return sent;
  });
}

/** One part of a streamed answer: the card that streamed it closed with it, or (no card, a refused close) a message of its own. */
async function finalPart(deps: RunDeliveryDeps, part: string, i: number, mine: StreamCardRow[], send: (card: LarkCard, part: number) => Promise<string>): Promise<string | null> {
  const card = mine.find((c) => c.part === i);
  if (!card) return send(markdownCard(part), i);
  try {
    await deps.client.replaceCardEntity(card.card_id, { card: closedCard({ text: part }), sequence: CLOSING_SEQUENCE + 2, uuid: `${deps.rowId}-c${i}`.slice(0, 50) });
    await markCard(deps.db, card.card_id, 'finished');
    return card.lark_message_id;
  } catch (err) {
    if (!isPermanentCardFailure(err)) throw err;
    deps.log.warn({ err, cardId: card.card_id }, 'lark refused to close a streamed card; sending that part as a message');
    if (card.lark_message_id) await deleteMessage(deps, card.lark_message_id).catch((e) => deps.log.info({ err: e }, 'could not delete the refused card'));
    await markCard(deps.db, card.card_id, 'interrupted');
    return send(markdownCard(part), i);
  }
}

/**
 * The plan for rows that belong to an agent run, or null for any other row. `send` sends one card
 * as a new message (reply or direct, with the part's idempotency uuid), `render` is the row's
 * ordinary rendering (for the parts of a row with nothing streamed).
 */
export async function planRunDelivery(
  deps: RunDeliveryDeps,
  body: OutboxBody,
  send: (card: LarkCard, part: number) => Promise<string>,
): Promise<RunDeliveryPlan | null> {
  const t = botText(deps.locale);
  switch (body.kind) {
    case 'agent_reply': {
      if (!body.stream && !body.typing && !body.afterWebQuestion) return null;
      const taskId = body.stream?.taskId ?? null;
      const cards = taskId ? await streamCardsOf(deps.db, taskId) : [];
      return {
        before: async () => {
          if (body.afterWebQuestion) await questionFirst(deps);
          await closeAbandoned(deps, cards, body.stream?.attempt ?? null);
        },
        steps: body.stream ? (answer) => finalAnswerSteps(deps, answer ?? { text: body.text, imageKeys: new Set() }, body.stream, cards, send) : undefined,
        after: () => removeTyping(deps, body.typing),
      };
    }
    case 'agent_error': {
      const cards = body.taskId ? await streamCardsOf(deps.db, body.taskId) : [];
      return {
        before: async () => {
          if (body.afterWebQuestion) await questionFirst(deps);
          await closeAbandoned(deps, cards, null);
        },
        after: () => removeTyping(deps, body.typing),
      };
    }
    case 'agent_stopped': {
      const cards = (await streamCardsOf(deps.db, body.taskId)).filter((c) => c.state === 'open');
      const note = body.stoppedBy ? t('run.stoppedBy', { name: body.stoppedBy }) : t('run.stopped');
      const current = body.stream ? cards.filter((c) => c.attempt === body.stream!.attempt) : [];
      // What the card showed while streaming: nothing of a stopped answer is uploaded.
      const parts = body.text ? streamingParts(body.text) : [];
      return {
        before: () => closeAbandoned(deps, cards, body.stream?.attempt ?? null),
        steps: () => [
          async () => {
            const closing = current.length > 0 ? current : cards;
            const lastPart = Math.max(...closing.map((c) => c.part));
            for (const card of closing) {
              const last = card.part === lastPart;
              const text = parts[card.part];
              if (text === undefined) {
                await closeWithNote(deps, card, note, 'finished');
                continue;
              }
              try {
                await deps.client.replaceCardEntity(card.card_id, {
                  card: closedCard({ text, note: last ? note : undefined }),
                  sequence: CLOSING_SEQUENCE + 2,
                  uuid: `${deps.rowId}-c${card.part}`.slice(0, 50),
                });
                await markCard(deps.db, card.card_id, 'finished');
              } catch (err) {
                if (!isPermanentCardFailure(err)) throw err;
                await closeWithNote(deps, card, note, 'finished');
              }
            }
            return current[0]?.lark_message_id ?? cards[0]?.lark_message_id ?? null;
          },
        ],
        after: () => removeTyping(deps, body.typing),
      };
    }
    case 'retract_answer': {
      const cards = body.taskId ? await streamCardsOf(deps.db, body.taskId) : [];
      return {
        before: async () => {
          if (!body.taskId) return;
          // An answer of this run being sent right now would land after the retraction: try again once its hold ends.
          const held = await deps.db.execute(sql`
            SELECT 1 FROM lark_outbox WHERE task_id = ${body.taskId}::uuid AND id <> ${deps.rowId}::uuid AND status = 'pending' AND sending_until > now() LIMIT 1`);
          if (held.rows.length > 0) throw new DeliveryWaitsError('An answer to the recalled question is being sent; retracting it once that ends');
          // Whatever of this run was not sent yet never will be.
          await deps.db.execute(sql`
            UPDATE lark_outbox SET status = 'skipped', last_error = 'The question was recalled'
            WHERE task_id = ${body.taskId}::uuid AND id <> ${deps.rowId}::uuid AND status = 'pending'`);
        },
        steps: () => [
          async () => {
            const sent = body.taskId
              ? await deps.db.execute<{ ids: string[] }>(sql`
                  SELECT lark_message_ids AS ids FROM lark_outbox WHERE task_id = ${body.taskId}::uuid AND id <> ${deps.rowId}::uuid AND cardinality(lark_message_ids) > 0`)
              : { rows: [] };
            const messageIds = new Set<string>([...cards.map((c) => c.lark_message_id).filter((id): id is string => id !== null), ...sent.rows.flatMap((r) => r.ids)]);
            for (const id of messageIds) await deleteMessage(deps, id);
            for (const card of cards) await markCard(deps.db, card.card_id, 'interrupted');
            return null;
          },
        ],
        after: async () => undefined,
      };
    }
    default:
      return null;
  }
}

/** A row that must wait for another of its run (retried like any transient failure, without counting as one). */
export class DeliveryWaitsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeliveryWaitsError';
  }
}

/**
 * A question typed in the web chat of a Lark session is posted to Lark first (a `web_question` row of
 * the same run): its answer waits until it is out, so Lark never sees an answer to a question it never saw.
 */
async function questionFirst(deps: RunDeliveryDeps): Promise<void> {
  const waiting = await deps.db.execute(sql`
    SELECT 1 FROM lark_outbox q JOIN lark_outbox a ON a.id = ${deps.rowId}::uuid
    WHERE q.task_id = a.task_id AND q.kind = 'web_question' AND q.status = 'pending' LIMIT 1`);
  if (waiting.rows.length > 0) throw new DeliveryWaitsError('The question this answers is not in Lark yet; sending the answer after it');
}

/** The error card of a failed run, with a Retry button when the run is known. */
export function withRetryButton(card: LarkCard, taskId: string | undefined, locale: AppLocale): LarkCard {
  if (!taskId) return card;
  const body = (card.body as { elements?: unknown[] } | undefined) ?? { elements: [] };
  const button = {
    tag: 'button',
    text: { tag: 'plain_text', content: botText(locale)('run.retry') },
    type: 'primary',
    size: 'small',
    behaviors: [{ type: 'callback', value: { a: 'retry', task: taskId } }],
  };
  return { ...card, body: { ...body, elements: [...(body.elements ?? []), button] } };
}
