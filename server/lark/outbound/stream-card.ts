import { streamCardRows } from './stream-card-rows';
import type { Logger } from 'pino';
import type { DbOrTx } from '../../db/client';
import { LarkApiError, type LarkCard, type LarkHttpClient } from '../api';
import type { AppLocale } from '../../../i18n/locales';
import { botText } from './bot-text';
import { sanitizeAgentMarkdown, type AgentMarkdownOptions } from './lark-markup';
import { limitCardTables } from './card-tables';
import { CARD_PART_BYTES, splitForLark } from './render';

/** The streamed markdown element, and the small status line under it (generating, interrupted, stopped). */
export const ANSWER_ELEMENT_ID = 'answer';
export const NOTE_ELEMENT_ID = 'note';

/**
 * Deltas are coalesced and pushed at most once per this interval: at most 4 content updates per
 * second per card, well under Lark's 10 operations per second per card, which leaves room for the
 * closing operations and a Stop press without ever meeting the limit. Four frames a second still
 * reads as continuous typing.
 */
export const STREAM_FLUSH_MS = 250;

/**
 * Operations that close a card (final text, interrupted, stopped) use this sequence: above anything
 * a stream reaches (4 per second for the whole life of a card is far below it) and below int32's
 * ceiling. A retried close repeats its uuid, so Lark treats it as the same operation.
 */
export const CLOSING_SEQUENCE = 2_000_000_000;

/**
 * Refusals that cost one frame only (the next carries the whole text anyway): too many operations on
 * the card (230020), and a person interacting with the card at that moment (200810).
 */
const FRAME_SKIPPED_CODES = new Set([230020, 200810]);

export type StreamLabels = { generating: string; stop: string };

const labelsByLocale = new Map<AppLocale, StreamLabels>();

/** The words on a streaming card, in the bot's language (made once per language). */
export function streamLabels(locale: AppLocale): StreamLabels {
  let labels = labelsByLocale.get(locale);
  if (!labels) {
    const t = botText(locale);
    labels = { generating: t('run.generating'), stop: t('run.stop') };
    labelsByLocale.set(locale, labels);
  }
  return labels;
}

/**
 * The answer's text as it appears in cards: sanitized (images only by the keys in `options`, or as
 * placeholders), tables within the card limit, split before Lark's 30 KB.
 */
export function cardParts(text: string, options: AgentMarkdownOptions = {}): string[] {
  return splitForLark(limitCardTables(sanitizeAgentMarkdown(text, options)), CARD_PART_BYTES).filter((p) => p.trim().length > 0);
}

/** What a card shows while its answer is still written: images are not uploaded yet, so each shows as its alt text with an image mark. */
export function streamingParts(text: string): string[] {
  return cardParts(text, { imagePlaceholders: true });
}

const summaryOf = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 100);

/** A card entity in streaming mode: the answer so far, a status line and a Stop button. */
export function streamingCard(input: { text: string; taskId: string; labels: StreamLabels }): LarkCard {
  return {
    schema: '2.0',
    config: {
      update_multi: true,
      streaming_mode: true,
      // Lark's own typewriter pacing, kept short: our frames are the pacing.
      streaming_config: { print_frequency_ms: { default: 30 }, print_step: { default: 2 }, print_strategy: 'fast' },
      summary: { content: input.labels.generating },
    },
    body: {
      elements: [
        { tag: 'markdown', element_id: ANSWER_ELEMENT_ID, content: input.text },
        { tag: 'markdown', element_id: NOTE_ELEMENT_ID, content: `<font color='grey'>${input.labels.generating}</font>`, text_size: 'notation' },
        {
          tag: 'button',
          element_id: 'stop',
          text: { tag: 'plain_text', content: input.labels.stop },
          type: 'danger',
          size: 'small',
          behaviors: [{ type: 'callback', value: { a: 'stop', task: input.taskId } }],
        },
      ],
    },
  };
}

/** A closed card: the final text of one part, and optionally a status line (stopped). */
export function closedCard(input: { text: string; note?: string }): LarkCard {
  const elements: Array<Record<string, unknown>> = [{ tag: 'markdown', element_id: ANSWER_ELEMENT_ID, content: input.text }];
  if (input.note) elements.push({ tag: 'markdown', element_id: NOTE_ELEMENT_ID, content: `<font color='grey'>${input.note}</font>`, text_size: 'notation' });
  return { schema: '2.0', config: { update_multi: true, streaming_mode: false, summary: { content: summaryOf(input.text) || (input.note ?? '') } }, body: { elements } };
}

/** Where a streamed answer is sent: as a reply to the question, inside its topic when it was asked in one. */
export type StreamTarget = { replyToMessageId: string; replyInThread: boolean };

/** What a finished stream leaves for the delivery of the final answer. */
export type StreamRef = { taskId: string; attempt: number };

type StreamCard = { part: number; cardId: string; sequence: number; shown: string };

export type AnswerStreamDeps = {
  db: DbOrTx;
  client: LarkHttpClient;
  logger: Logger;
  workspaceId: string;
  installationId: string;
  taskId: string;
  attempt: number;
  target: StreamTarget;
  labels: StreamLabels;
  flushMs?: number;
  /** Counts every card operation (create, send, update), for the benches. */
  onCardOperation?: (op: 'create' | 'send' | 'content') => void;
};

/**
 * Streams one run's answer into CardKit cards. Nothing here is durable but the card rows (written
 * when a card is created, so a crashed run's cards can be found and marked interrupted): the final
 * answer is delivered by the outbox, which closes these cards with it. Any failure only ends the
 * streaming; the outbox still delivers the answer exactly once.
 */
export class LarkAnswerStream {
  private text = '';
  private readonly cards: StreamCard[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private ended = false;
  private failed = false;
  private lastFlushAt = 0;
  /** Card rows written: a card whose send failed still has one for the final delivery to close. */
  private rows = 0;
  readonly stats = { operations: 0, skippedFrames: 0 };

  constructor(private readonly deps: AnswerStreamDeps) {}

  /** The full text so far; cheap: it only schedules a frame. */
  push(text: string): void {
    if (this.ended || this.failed) return;
    this.text = text;
    this.schedule();
  }

  /** Stops streaming and waits for the frame in flight; returns the cards' reference, or null when none was shown. */
  async end(): Promise<StreamRef | null> {
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flushing;
    return this.rows > 0 ? { taskId: this.deps.taskId, attempt: this.deps.attempt } : null;
  }

  private schedule(): void {
    if (this.timer || this.flushing) return;
    const flushMs = this.deps.flushMs ?? STREAM_FLUSH_MS;
    const wait = Math.max(0, this.lastFlushAt + flushMs - Date.now());
    // The first frame waits a full interval too: an answer that is complete by then is sent as one message.
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.flushing = this.flush().finally(() => {
          this.flushing = null;
          if (!this.ended && !this.failed && this.pendingText()) this.schedule();
        });
      },
      this.lastFlushAt === 0 ? flushMs : wait,
    );
  }

  private pendingText(): boolean {
    const parts = streamingParts(this.text);
    return parts.some((p, i) => this.cards[i]?.shown !== p);
  }

  private async flush(): Promise<void> {
    if (this.ended || this.failed) return;
    this.lastFlushAt = Date.now();
    const parts = streamingParts(this.text);
    try {
      for (let i = 0; i < parts.length; i++) {
        if (this.ended) return;
        const card = this.cards[i];
        if (!card) await this.openCard(i, parts[i]);
        else if (card.shown !== parts[i]) await this.update(card, parts[i]);
      }
    } catch (err) {
      if (err instanceof LarkApiError && FRAME_SKIPPED_CODES.has(err.code)) {
        this.stats.skippedFrames++;
        return;
      }
      this.failed = true;
      this.deps.logger.warn({ err, taskId: this.deps.taskId }, 'streaming into a card failed; the answer is delivered as a message');
    }
  }

  private async openCard(part: number, text: string): Promise<void> {
    const d = this.deps;
    const cardId = await d.client.createCardEntity(streamingCard({ text, taskId: d.taskId, labels: d.labels }));
    this.count('create');
    // The row comes first: a card someone can see always has a row that lets it be closed.
    const rows = streamCardRows(d.db);
    await rows.add({ workspaceId: d.workspaceId, installationId: d.installationId, taskId: d.taskId, attempt: d.attempt, part, cardId });
    this.rows++;
    const sent = await d.client.reply(
      d.target.replyToMessageId,
      { msgType: 'interactive', content: { type: 'card', data: { card_id: cardId } }, replyInThread: d.target.replyInThread, uuid: `s-${cardId}`.slice(0, 50) },
    );
    this.count('send');
    this.cards[part] = { part, cardId, sequence: 0, shown: text };
    await rows.sent(cardId, sent.messageId);
  }

  private async update(card: StreamCard, text: string): Promise<void> {
    card.sequence += 1;
    await this.deps.client.setCardElementContent(card.cardId, ANSWER_ELEMENT_ID, { content: text, sequence: card.sequence });
    card.shown = text;
    this.count('content');
  }

  private count(op: 'create' | 'send' | 'content'): void {
    this.stats.operations++;
    this.deps.onCardOperation?.(op);
  }
}
