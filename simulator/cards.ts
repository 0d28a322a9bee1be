import { randomDigits } from './ids';
import { cardImageError, cardLimitError, checkCard } from './im-content';
import { larkError, type LarkError } from './lark-errors';
import type { OwnMedia } from './media';
import type { CardEntity } from './state';

// CardKit card entities: what a card holds, what its buttons do, and the per-card protocol state
// (operation log, sequence, uuid replays, rate window, callbacks in progress).

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Lark card ids are 19-digit numbers (as strings). */
export const newCardId = () => `7${randomDigits(18)}`;

export const cardEntityMaxBytes = 30 * 1024;
export const cardEntityLifetimeMs = 14 * 24 * 60 * 60 * 1000;

/** Parses and checks card JSON 2.0 for an entity (create and full update), in the order Lark reports. */
export function parseEntityCard(data: string, tableLimit: number, media: OwnMedia): { card: Json } | { error: LarkError } {
  let card: unknown;
  try {
    card = JSON.parse(data);
  } catch {
    return { error: larkError('card_generate_failed', 'card data is not valid JSON') };
  }
  if (!isObject(card)) return { error: larkError('card_generate_failed', 'card data must be a JSON object') };
  if (Object.keys(card).length === 0) return { error: larkError('card_dsl_empty') };
  if (card.schema !== '2.0') return { error: larkError('card_schema_not_v2') };
  const error = checkEntityCard(card, tableLimit, media);
  return error ? { error } : { card };
}

/** Checks a whole card as it would stand after an operation (images: the entity's app's own uploads). */
export function checkEntityCard(card: Json, tableLimit: number, media: OwnMedia): LarkError | undefined {
  if (isObject(card.config) && card.config.update_multi === false) return larkError('card_update_multi_false');
  if (Buffer.byteLength(JSON.stringify(card)) > cardEntityMaxBytes) return larkError('card_too_large');
  return checkCard(card) ?? cardLimitError(card, tableLimit, true) ?? cardImageError(card, media);
}

export const isStreaming = (card: Json) => isObject(card.config) && card.config.streaming_mode === true;

export function cardSummary(card: Json): string | null {
  const summary = isObject(card.config) ? card.config.summary : undefined;
  return isObject(summary) && typeof summary.content === 'string' ? summary.content : null;
}

/** Switches streaming mode off in place. */
export function stopStreaming(entity: CardEntity): void {
  entity.card = { ...entity.card, config: { ...(isObject(entity.card.config) ? entity.card.config : {}), streaming_mode: false } };
  entity.streamingOpenedAt = undefined;
}

/** Streaming mode closes itself `timeoutMs` after it opened; true when it just did. */
export function expireStreaming(entity: CardEntity, timeoutMs: number, now = Date.now()): boolean {
  if (!isStreaming(entity.card) || entity.streamingOpenedAt === undefined) return false;
  if (now - entity.streamingOpenedAt <= timeoutMs) return false;
  stopStreaming(entity);
  return true;
}

/** The element with this element_id anywhere in the card (body, columns, panels, header). */
export function findElement(card: unknown, elementId: string): Json | undefined {
  if (Array.isArray(card)) {
    for (const item of card) {
      const found = findElement(item, elementId);
      if (found) return found;
    }
    return undefined;
  }
  if (!isObject(card)) return undefined;
  if (card.element_id === elementId && typeof card.tag === 'string') return card;
  for (const value of Object.values(card)) {
    const found = findElement(value, elementId);
    if (found) return found;
  }
  return undefined;
}

// --- buttons ------------------------------------------------------------------------------

export type ButtonAction =
  | { kind: 'callback'; value: unknown; name?: string }
  | { kind: 'open_url'; url: string }
  | { kind: 'inert' };

/**
 * The card's buttons in document order: the order the web UI numbers them in (it walks the same
 * containers: column sets, action rows, and anything else holding `elements`).
 */
export function cardButtons(card: Json): Json[] {
  const out: Json[] = [];
  const walk = (elements: unknown) => {
    if (!Array.isArray(elements)) return;
    for (const el of elements) {
      if (!isObject(el)) continue;
      switch (el.tag) {
        case 'button':
          out.push(el);
          break;
        case 'column_set':
          for (const column of Array.isArray(el.columns) ? el.columns : []) if (isObject(column)) walk(column.elements);
          break;
        case 'action':
          walk(el.actions);
          break;
        case 'markdown':
        case 'div':
        case 'hr':
        case 'note':
        case 'img':
          break;
        default:
          walk(el.elements);
      }
    }
  };
  const elements = card.schema === '2.0' ? (isObject(card.body) ? card.body.elements : undefined) : card.elements;
  walk(elements);
  return out;
}

/** What pressing the button does: card 2.0 `behaviors`, or card 1.0 `value` / `url` / `multi_url`. */
export function buttonAction(button: Json): ButtonAction {
  if (button.disabled === true) return { kind: 'inert' };
  const name = typeof button.name === 'string' ? button.name : undefined;
  const behaviors = Array.isArray(button.behaviors) ? button.behaviors.filter(isObject) : [];
  const callback = behaviors.find((b) => b.type === 'callback');
  if (callback) return { kind: 'callback', value: callback.value ?? {}, name };
  const link = behaviors.find((b) => b.type === 'open_url');
  const multi = isObject(button.multi_url) ? button.multi_url : undefined;
  const candidates = link ? [link.pc_url, link.default_url] : [multi?.pc_url, multi?.url, button.url];
  const url = candidates.find((c): c is string => typeof c === 'string' && c.trim() !== '');
  if (url) return { kind: 'open_url', url };
  if (!link && isObject(button.value)) return { kind: 'callback', value: button.value, name };
  return { kind: 'inert' };
}

// --- per-card protocol state ---------------------------------------------------------------

export type CardOpKind = 'create' | 'element_content' | 'settings' | 'update' | 'callback_card';

export type CardOp = {
  at: number;
  kind: CardOpKind;
  sequence: number | null;
  /** element_content: the new text's length; create/update/settings/callback_card: the card JSON's length. */
  content_length: number;
  element_id?: string;
  uuid?: string;
  /** 0 when applied, else the Lark code it was answered with. */
  code: number;
  /** A repeat of an earlier uuid: answered as before, nothing changed. */
  replay?: boolean;
};

const maxOpsPerCard = 5000;

/** In-flight state of card entities; not persisted (like tokens and idempotency keys). */
export class CardRuntime {
  private readonly ops = new Map<string, CardOp[]>();
  private readonly uuids = new Map<string, string>();
  private readonly windows = new Map<string, number[]>();
  private readonly interactions = new Map<string, number>();

  log(cardId: string, op: CardOp): void {
    let list = this.ops.get(cardId);
    if (!list) this.ops.set(cardId, (list = []));
    list.push(op);
    if (list.length > maxOpsPerCard) list.splice(0, list.length - maxOpsPerCard);
  }

  opsOf(cardId: string): CardOp[] {
    return [...(this.ops.get(cardId) ?? [])];
  }

  /** Sliding one-second window: an operation is refused while `limit` others happened in the last second. */
  admit(cardId: string, limit: number, now = Date.now()): boolean {
    const recent = (this.windows.get(cardId) ?? []).filter((at) => now - at < 1000);
    const admitted = recent.length < limit;
    if (admitted) recent.push(now);
    this.windows.set(cardId, recent);
    return admitted;
  }

  /** A uuid seen before on this card: the request it came with (as a fingerprint). */
  uuidFingerprint(cardId: string, uuid: string): string | undefined {
    return this.uuids.get(`${cardId}|${uuid}`);
  }

  rememberUuid(cardId: string, uuid: string, fingerprint: string): void {
    this.uuids.set(`${cardId}|${uuid}`, fingerprint);
  }

  /** While a user's press on the card waits for the bot's answer, the card cannot be updated. */
  beginInteraction(cardId: string): () => void {
    this.interactions.set(cardId, (this.interactions.get(cardId) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = (this.interactions.get(cardId) ?? 1) - 1;
      if (left > 0) this.interactions.set(cardId, left);
      else this.interactions.delete(cardId);
    };
  }

  inInteraction(cardId: string): boolean {
    return this.interactions.has(cardId);
  }

  clear(): void {
    this.ops.clear();
    this.uuids.clear();
    this.windows.clear();
    this.interactions.clear();
  }
}
