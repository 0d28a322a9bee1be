import { larkError, type LarkError } from './lark-errors';

type Json = Record<string, unknown>;

export const supportedMsgTypes = ['text', 'interactive', 'post'] as const;
export type SupportedMsgType = (typeof supportedMsgTypes)[number];

/** Lark counts the request body: text 150 KB, card and post 30 KB. */
export const requestBodyLimits: Record<SupportedMsgType, number> = {
  text: 150 * 1024,
  interactive: 30 * 1024,
  post: 30 * 1024,
};

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

const invalid = (detail: string) => larkError('invalid_param', detail);
const cardFailed = (detail: string) => larkError('card_failed', detail);

// Card JSON 2.0 components. An allowlist on purpose: an unknown tag must fail here, as it does on Lark.
const cardV2Tags = new Set([
  'markdown',
  'div',
  'hr',
  'img',
  'img_combination',
  'column_set',
  'column',
  'button',
  'table',
  'chart',
  'form',
  'collapsible_panel',
  'interactive_container',
  'person',
  'person_list',
  'avatar',
  'input',
  'select_static',
  'multi_select_static',
  'select_person',
  'multi_select_person',
  'select_img',
  'date_picker',
  'picker_time',
  'picker_datetime',
  'checker',
  'overflow',
  'audio',
  'video',
]);
const containerKeys = ['elements', 'columns'] as const;

function checkCardV2Elements(elements: unknown, where: string): LarkError | undefined {
  if (!Array.isArray(elements)) return cardFailed(`${where} must be an array`);
  for (const [i, element] of elements.entries()) {
    const at = `${where}[${i}]`;
    if (!isObject(element) || typeof element.tag !== 'string') return cardFailed(`${at}.tag is required`);
    if (!cardV2Tags.has(element.tag)) return cardFailed(`${at}: unknown tag "${element.tag}" in card JSON 2.0`);
    if (element.tag === 'markdown' && typeof element.content !== 'string') {
      return cardFailed(`${at}: markdown needs a string content`);
    }
    for (const key of containerKeys) {
      if (key in element) {
        const nested = checkCardV2Elements(element[key], `${at}.${key}`);
        if (nested) return nested;
      }
    }
  }
  return undefined;
}

function checkCard(card: Json): LarkError | undefined {
  if (card.type === 'template') return cardFailed('card templates are not available on this platform instance');
  if (card.config !== undefined && !isObject(card.config)) return cardFailed('config must be an object');
  if (card.header !== undefined) {
    if (!isObject(card.header)) return cardFailed('header must be an object');
    const title = card.header.title;
    if (title !== undefined && (!isObject(title) || typeof title.content !== 'string')) {
      return cardFailed('header.title needs a string content');
    }
  }
  if (card.schema === '2.0') {
    if (!isObject(card.body)) return cardFailed('card JSON 2.0 needs a body object');
    return checkCardV2Elements(card.body.elements, 'body.elements');
  }
  if (card.schema !== undefined) return cardFailed(`unsupported card schema "${String(card.schema)}"`);
  // Card JSON 1.0: top-level elements (or i18n_elements).
  const elements = card.elements ?? (isObject(card.i18n_elements) ? Object.values(card.i18n_elements)[0] : undefined);
  if (!Array.isArray(elements)) return cardFailed('card JSON 1.0 needs an elements array');
  for (const element of elements) {
    if (!isObject(element) || typeof element.tag !== 'string') return cardFailed('every element needs a tag');
  }
  return undefined;
}

const postTags = new Set(['text', 'a', 'at', 'img', 'media', 'emotion', 'code_block', 'hr', 'md']);

function checkPostBody(body: unknown, locale: string): LarkError | undefined {
  if (!isObject(body)) return invalid(`post.${locale} must be an object`);
  if (body.title !== undefined && typeof body.title !== 'string') return invalid(`post.${locale}.title must be a string`);
  if (!Array.isArray(body.content)) return invalid(`post.${locale}.content must be an array of paragraphs`);
  for (const paragraph of body.content) {
    if (!Array.isArray(paragraph)) return invalid(`post.${locale}.content must be an array of arrays`);
    for (const node of paragraph) {
      if (!isObject(node) || typeof node.tag !== 'string' || !postTags.has(node.tag)) {
        return invalid(`post.${locale}: unsupported element ${JSON.stringify(node)}`);
      }
      if ((node.tag === 'text' || node.tag === 'md' || node.tag === 'code_block') && typeof node.text !== 'string') {
        return invalid(`post.${locale}: ${node.tag} needs a string text`);
      }
      if (node.tag === 'a' && (typeof node.href !== 'string' || typeof node.text !== 'string')) {
        return invalid(`post.${locale}: a needs href and text`);
      }
      if (node.tag === 'at' && typeof node.user_id !== 'string') return invalid(`post.${locale}: at needs user_id`);
    }
  }
  return undefined;
}

/** Validates `content` (the JSON string of a send/reply/patch body) for `msgType`. */
export function checkContent(
  msgType: string,
  content: unknown,
): { ok: true; value: Json } | { ok: false; error: LarkError } {
  if (!(supportedMsgTypes as readonly string[]).includes(msgType)) {
    return { ok: false, error: invalid(`unsupported msg_type "${msgType}"`) };
  }
  if (typeof content !== 'string') return { ok: false, error: invalid('content is not a string in json format') };
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch {
    return { ok: false, error: invalid('content is not a string in json format') };
  }
  if (!isObject(value)) return { ok: false, error: invalid('content must be a JSON object') };

  let error: LarkError | undefined;
  if (msgType === 'text') {
    if (typeof value.text !== 'string' || value.text.length === 0) error = invalid('text content needs a non-empty "text"');
  } else if (msgType === 'interactive') {
    error = checkCard(value);
  } else {
    const locales = Object.keys(value);
    if (locales.length === 0) error = invalid('post content needs at least one locale, e.g. {"zh_cn":{...}}');
    for (const locale of locales) {
      if (error) break;
      error = /^[a-z]{2}_[a-z]{2}$/.test(locale)
        ? checkPostBody(value[locale], locale)
        : invalid(`post content must be keyed by locale, got "${locale}"`);
    }
  }
  return error ? { ok: false, error } : { ok: true, value };
}

/** A card may be patched only when it says so itself. */
export function isSharedCard(card: Json): boolean {
  return isObject(card.config) && card.config.update_multi === true;
}
