import {
  cardEntityLifetimeMs,
  checkEntityCard,
  expireStreaming,
  findElement,
  isStreaming,
  newCardId,
  parseEntityCard,
  type CardOpKind,
} from './cards';
import { parseJsonObject, type Reply } from './http';
import { larkError, larkErrorReply, larkFail, larkOk, type LarkError } from './lark-errors';
import { ownMedia } from './media';
import type { Call } from './rest';
import type { CardEntity } from './state';

// CardKit: card entities (`/open-apis/cardkit/v1/cards`), streamed text, settings, full updates.

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const maxSequence = 2 ** 31 - 1;

type OpRequest = {
  kind: Exclude<CardOpKind, 'create' | 'callback_card'>;
  sequence: number;
  uuid?: string;
  /** Identifies the request's payload: a repeated uuid must come with the same one. */
  fingerprint: string;
  contentLength: number;
  elementId?: string;
};

/** `sequence` (required, a positive int32) and `uuid` (optional, 1 to 64 characters). */
function readSequenceAndUuid(body: Json): { sequence: number; uuid?: string } | LarkError {
  const { sequence, uuid } = body;
  if (typeof sequence !== 'number' || !Number.isInteger(sequence) || sequence < 1 || sequence > maxSequence) {
    return larkError('field_validation', 'sequence must be an integer from 1 to 2147483647');
  }
  if (uuid !== undefined && (typeof uuid !== 'string' || uuid.length < 1 || uuid.length > 64)) {
    return larkError('field_validation', 'uuid must be a string of 1 to 64 characters');
  }
  return { sequence, uuid };
}

/**
 * The checks every update of a card entity goes through, in order: the entity exists and is this
 * app's, has not expired; a repeated uuid replays (same request) or conflicts (another request); no
 * user press is waiting for its answer; the per-card rate; a strictly increasing sequence. Then
 * `apply` changes the entity or answers why not. Every attempt on an existing card is logged.
 */
function runCardOp(call: Call, op: OpRequest, apply: (entity: CardEntity, now: number) => LarkError | undefined): Reply {
  const { deps, app, params } = call;
  const entity = deps.dir.cards.get(params.card_id);
  if (!entity) return larkFail('card_not_found');
  if (entity.appId !== app.appId) return larkFail('card_no_permission');
  const now = Date.now();
  const record = (code: number, replay = false) =>
    deps.cards.log(entity.cardId, {
      at: now,
      kind: op.kind,
      sequence: op.sequence,
      content_length: op.contentLength,
      ...(op.elementId !== undefined ? { element_id: op.elementId } : {}),
      ...(op.uuid !== undefined ? { uuid: op.uuid } : {}),
      code,
      ...(replay ? { replay } : {}),
    });
  const fail = (error: LarkError) => {
    record(error.code);
    return larkErrorReply(error);
  };

  if (now - entity.createdAt > cardEntityLifetimeMs) return fail(larkError('card_expired'));
  if (op.uuid !== undefined) {
    const seen = deps.cards.uuidFingerprint(entity.cardId, op.uuid);
    if (seen === op.fingerprint) {
      record(0, true);
      return larkOk({ data: {} });
    }
    if (seen !== undefined) return fail(larkError('card_uuid_conflict'));
  }
  if (deps.cards.inInteraction(entity.cardId)) return fail(larkError('card_in_interaction'));
  if (!deps.cards.admit(entity.cardId, deps.config.cardOpsPerSecond, now)) return fail(larkError('im_rate_limited'));
  if (op.sequence <= entity.sequence) {
    return fail(larkError('card_sequence', `sequence ${op.sequence} is not greater than the last one, ${entity.sequence}`));
  }
  const error = apply(entity, now);
  if (error) return fail(error);
  entity.sequence = op.sequence;
  entity.updatedAt = now;
  if (op.uuid !== undefined) deps.cards.rememberUuid(entity.cardId, op.uuid, op.fingerprint);
  record(0);
  return larkOk({ data: {} });
}

/** Replaces the entity's card; switching streaming mode on starts its clock. */
function replaceCard(entity: CardEntity, card: Json, now: number): void {
  const wasStreaming = isStreaming(entity.card);
  entity.card = card;
  if (!isStreaming(card)) entity.streamingOpenedAt = undefined;
  else if (!wasStreaming) entity.streamingOpenedAt = now;
}

export function createCard(call: Call): Reply {
  const { deps, req, app } = call;
  const body = parseJsonObject(req.body);
  if (!body) return larkFail('bad_json');
  const { type, data } = body;
  if (typeof type !== 'string' || type === '') return larkFail('field_validation', 'type is required');
  if (typeof data !== 'string' || data === '') return larkFail('field_validation', 'data is required');
  if (type === 'template') return larkFail('cardkit_invalid_param', 'card templates are not available on this platform instance');
  if (type !== 'card_json') return larkFail('cardkit_invalid_param', 'type must be card_json');
  const parsed = parseEntityCard(data, deps.config.cardTableLimit, ownMedia(deps.dir, app.appId));
  if ('error' in parsed) return larkErrorReply(parsed.error);
  const now = Date.now();
  const entity: CardEntity = {
    cardId: newCardId(),
    appId: app.appId,
    card: parsed.card,
    createdAt: now,
    updatedAt: now,
    sequence: 0,
    ...(isStreaming(parsed.card) ? { streamingOpenedAt: now } : {}),
  };
  deps.dir.cards.set(entity.cardId, entity);
  // Creation is the card's first operation: it counts towards the per-card rate.
  deps.cards.admit(entity.cardId, deps.config.cardOpsPerSecond, now);
  deps.cards.log(entity.cardId, { at: now, kind: 'create', sequence: null, content_length: data.length, code: 0 });
  return larkOk({ data: { card_id: entity.cardId } });
}

export function updateElementContent(call: Call): Reply {
  const { deps, req, params, app } = call;
  const body = parseJsonObject(req.body);
  if (!body) return larkFail('bad_json');
  const { content } = body;
  if (typeof content !== 'string' || content.length < 1 || content.length > 100_000) {
    return larkFail('field_validation', 'content must be a string of 1 to 100000 characters');
  }
  const common = readSequenceAndUuid(body);
  if ('code' in common) return larkErrorReply(common);
  const elementId = params.element_id;
  const op: OpRequest = {
    kind: 'element_content',
    ...common,
    fingerprint: JSON.stringify(['element_content', elementId, content, common.sequence]),
    contentLength: content.length,
    elementId,
  };
  return runCardOp(call, op, (entity, now) => {
    if (expireStreaming(entity, deps.config.streamingTimeoutMs, now)) return larkError('card_streaming_timeout');
    if (!isStreaming(entity.card)) return larkError('card_streaming_closed');
    const next = structuredClone(entity.card);
    const element = findElement(next, elementId);
    if (!element) return larkError('card_element_failed', `ErrMsg: not find elementID: ${elementId}`);
    if (element.tag !== 'markdown' && element.tag !== 'plain_text') return larkError('card_only_text');
    element.content = content;
    const error = checkEntityCard(next, deps.config.cardTableLimit, ownMedia(deps.dir, app.appId));
    if (error) return error;
    entity.card = next;
    return undefined;
  });
}

export function updateCardSettings(call: Call): Reply {
  const { deps, req, app } = call;
  const body = parseJsonObject(req.body);
  if (!body) return larkFail('bad_json');
  const { settings } = body;
  if (typeof settings !== 'string' || settings === '') return larkFail('field_validation', 'settings is required');
  const common = readSequenceAndUuid(body);
  if ('code' in common) return larkErrorReply(common);
  const op: OpRequest = {
    kind: 'settings',
    ...common,
    fingerprint: JSON.stringify(['settings', settings, common.sequence]),
    contentLength: settings.length,
  };
  return runCardOp(call, op, (entity, now) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(settings);
    } catch {
      return larkError('card_settings_failed', 'settings is not valid JSON');
    }
    if (!isObject(parsed)) return larkError('card_settings_failed', 'settings must be a JSON object');
    const unknown = Object.keys(parsed).filter((key) => key !== 'config' && key !== 'card_link');
    if (unknown.length) return larkError('card_settings_failed', `settings holds only config and card_link, not ${unknown.join(', ')}`);
    if (parsed.config !== undefined && !isObject(parsed.config)) return larkError('card_settings_failed', 'config must be an object');
    if (parsed.card_link !== undefined && !isObject(parsed.card_link)) return larkError('card_settings_failed', 'card_link must be an object');
    expireStreaming(entity, deps.config.streamingTimeoutMs, now);
    const next: Json = { ...entity.card };
    if (parsed.config) next.config = { ...(isObject(entity.card.config) ? entity.card.config : {}), ...parsed.config };
    if (parsed.card_link) next.card_link = parsed.card_link;
    const error = checkEntityCard(next, deps.config.cardTableLimit, ownMedia(deps.dir, app.appId));
    if (error) return error;
    replaceCard(entity, next, now);
    return undefined;
  });
}

export function updateCard(call: Call): Reply {
  const { deps, req, app } = call;
  const body = parseJsonObject(req.body);
  if (!body) return larkFail('bad_json');
  const card = body.card;
  if (!isObject(card)) return larkFail('field_validation', 'card is required');
  if (typeof card.type !== 'string' || card.type === '') return larkFail('field_validation', 'card.type is required');
  if (typeof card.data !== 'string' || card.data === '') return larkFail('field_validation', 'card.data is required');
  if (card.type !== 'card_json') return larkFail('cardkit_invalid_param', 'card.type must be card_json');
  const data = card.data;
  const common = readSequenceAndUuid(body);
  if ('code' in common) return larkErrorReply(common);
  const op: OpRequest = {
    kind: 'update',
    ...common,
    fingerprint: JSON.stringify(['update', data, common.sequence]),
    contentLength: data.length,
  };
  return runCardOp(call, op, (entity, now) => {
    const parsed = parseEntityCard(data, deps.config.cardTableLimit, ownMedia(deps.dir, app.appId));
    if ('error' in parsed) return parsed.error;
    expireStreaming(entity, deps.config.streamingTimeoutMs, now);
    replaceCard(entity, parsed.card, now);
    return undefined;
  });
}
