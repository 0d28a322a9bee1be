import { larkError, type LarkError } from './lark-errors';
import type { OwnMedia } from './media';

type Json = Record<string, unknown>;

export const supportedMsgTypes = ['text', 'interactive', 'post', 'image', 'file', 'audio', 'media'] as const;
export type SupportedMsgType = (typeof supportedMsgTypes)[number];

/** Lark counts the request body: text 150 KB, card and post 30 KB (and so the small media contents). */
export const requestBodyLimits: Record<SupportedMsgType, number> = {
  text: 150 * 1024,
  interactive: 30 * 1024,
  post: 30 * 1024,
  image: 30 * 1024,
  file: 30 * 1024,
  audio: 30 * 1024,
  media: 30 * 1024,
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

export function checkCard(card: Json): LarkError | undefined {
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

// --- what a card holds: components, tables, element ids ---------------------------------------

/** Components a card may hold at most (card JSON 2.0 counts elements and nested text elements). */
const maxCardComponents = 200;
const elementIdPattern = /^[A-Za-z][A-Za-z0-9_]{0,19}$/;

const tableCells = (line: string) => line.trim().replace(/^\|/, '').replace(/(?<!\\)\|$/, '').split(/(?<!\\)\|/);
const delimiterCell = /^\s*:?-+:?\s*$/;

/** GFM tables in markdown text: a row of cells over a delimiter row with as many cells; fenced code does not count. */
export function countMarkdownTables(text: string): number {
  const lines = text.split(/\r?\n/);
  let count = 0;
  let fence: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(lines[i])?.[1];
    if (marker) {
      if (!fence) fence = marker[0];
      else if (marker[0] === fence) fence = undefined;
      continue;
    }
    if (fence || i === 0 || !lines[i].includes('-')) continue;
    const header = lines[i - 1];
    if (!header.includes('|') && !lines[i].includes('|')) continue;
    const delimiters = tableCells(lines[i]);
    if (delimiters.every((cell) => delimiterCell.test(cell)) && tableCells(header).length === delimiters.length) count += 1;
  }
  return count;
}

export type CardFacts = {
  /** Objects with a tag below the card's body (or elements, for card JSON 1.0). */
  components: number;
  /** Table components plus markdown tables in markdown and lark_md text. */
  tables: number;
  badElementId?: string;
  duplicateElementId?: string;
};

export function inspectCard(card: Json): CardFacts {
  const facts: CardFacts = { components: 0, tables: 0 };
  const seen = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (!isObject(node)) return;
    if (typeof node.tag === 'string') {
      facts.components += 1;
      if (node.tag === 'table') facts.tables += 1;
      if ((node.tag === 'markdown' || node.tag === 'lark_md') && typeof node.content === 'string') {
        facts.tables += countMarkdownTables(node.content);
      }
      if (node.element_id !== undefined) {
        const id = node.element_id;
        if (typeof id !== 'string' || !elementIdPattern.test(id)) facts.badElementId ??= String(id);
        else if (seen.has(id)) facts.duplicateElementId ??= id;
        else seen.add(id);
      }
    }
    for (const value of Object.values(node)) visit(value);
  };
  if (card.schema === '2.0') visit(card.body);
  else visit(card.elements ?? card.i18n_elements);
  return facts;
}

/**
 * The limits Lark checks when it renders a card: element ids, size in components and tables. The
 * IM endpoints answer 230099 for each; CardKit has codes of its own for some (`cardkit: true`).
 */
export function cardLimitError(card: Json, tableLimit: number, cardkit = false): LarkError | undefined {
  const facts = inspectCard(card);
  if (facts.badElementId !== undefined) {
    return cardFailed(`ErrMsg: element_id must start with a letter and hold at most 20 letters, digits or underscores; ErrorValue: ${facts.badElementId}; `);
  }
  if (facts.duplicateElementId !== undefined) {
    return cardkit
      ? larkError('card_duplicate_element_id', `ErrorValue: ${facts.duplicateElementId}`)
      : cardFailed(`ErrMsg: duplicate element_id; ErrorValue: ${facts.duplicateElementId}; `);
  }
  if (facts.components > maxCardComponents) {
    return cardkit ? larkError('card_too_many_components', 'ErrMsg: element exceeds the limit') : cardFailed('ErrMsg: element exceeds the limit; ');
  }
  if (facts.tables > tableLimit) return cardFailed('ErrCode: 11310; ErrMsg: card table number over limit; ErrorValue: table; ');
  return undefined;
}

// Markdown images: `![alt](key)`, optionally `![alt](key "title")` or `<key>`.
const markdownImage = /!\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g;

/** The images a card names: every `img_key` (img, img_combination, icons, ...) and every markdown image. */
export function cardImageKeys(card: unknown): string[] {
  const keys: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (!isObject(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'img_key') keys.push(typeof value === 'string' ? value : String(value));
      else if (key === 'content' && typeof value === 'string' && (node.tag === 'markdown' || node.tag === 'lark_md')) {
        for (const match of value.matchAll(markdownImage)) keys.push(match[1]);
      } else visit(value);
    }
  };
  visit(card);
  return keys;
}

/** A card shows only images the sending app uploaded; an outside URL in markdown fails the whole card. */
export function cardImageError(card: Json, media: OwnMedia): LarkError | undefined {
  const bad = cardImageKeys(card).find((key) => !ownImage(media, key));
  return bad === undefined ? undefined : cardFailed(`ErrCode: 11310; ErrMsg: invalid image key, use an image_key this app uploaded; ErrorValue: ${bad}; `);
}

/** `{"type":"card","data":{"card_id":"..."}}`: a message showing a CardKit card entity. */
function entityReference(value: Json): { cardId: string } | { error: LarkError } | undefined {
  if (value.type === 'card') {
    const cardId = isObject(value.data) ? value.data.card_id : undefined;
    return typeof cardId === 'string' && cardId !== ''
      ? { cardId }
      : { error: cardFailed('ErrCode: 11310; ErrMsg: cardid is invalid; ') };
  }
  // A bare card_id (without the type/data wrapper) is not a card.
  if ('card_id' in value && value.schema === undefined && value.elements === undefined) {
    return { error: larkError('card_json_invalid') };
  }
  return undefined;
}

const postTags = new Set(['text', 'a', 'at', 'img', 'media', 'emotion', 'code_block', 'hr', 'md']);

const ownImage = (media: OwnMedia, key: unknown) => typeof key === 'string' && media(key)?.kind === 'image';
const ownFile = (media: OwnMedia, key: unknown, fileType?: string) => {
  const blob = typeof key === 'string' ? media(key) : undefined;
  return blob?.kind === 'file' && (fileType === undefined || blob.fileType === fileType) ? blob : undefined;
};

function checkPostBody(body: unknown, locale: string, media: OwnMedia): LarkError | undefined {
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
      // Images and videos in a post are the app's own uploads.
      if (node.tag === 'img' && !ownImage(media, node.image_key)) return invalid(`post.${locale}: img needs an image_key this app uploaded`);
      if (node.tag === 'media' && (!ownFile(media, node.file_key, 'mp4') || !ownImage(media, node.image_key))) {
        return invalid(`post.${locale}: media needs a file_key of an mp4 and an image_key this app uploaded`);
      }
    }
  }
  return undefined;
}

/**
 * A media message's content: its keys must be the app's own uploads of the right kind. Answers the
 * content as Lark stores it (file name and duration filled in).
 */
function checkMediaContent(msgType: 'image' | 'file' | 'audio' | 'media', value: Json, media: OwnMedia): { stored: Json } | { error: LarkError } {
  const keyError = (what: string) => ({ error: invalid(`${what}; use a key this app uploaded`) });
  switch (msgType) {
    case 'image':
      return ownImage(media, value.image_key) ? { stored: { image_key: value.image_key } } : keyError('invalid image_key');
    case 'file': {
      const file = ownFile(media, value.file_key);
      return file ? { stored: { file_key: file.key, file_name: file.fileName ?? '' } } : keyError('invalid file_key');
    }
    case 'audio': {
      const file = ownFile(media, value.file_key, 'opus');
      return file ? { stored: { file_key: file.key, duration: file.durationMs ?? 0 } } : keyError('invalid file_key: audio needs an uploaded opus file');
    }
    case 'media': {
      const file = ownFile(media, value.file_key, 'mp4');
      if (!file) return keyError('invalid file_key: media needs an uploaded mp4 file');
      if (!ownImage(media, value.image_key)) return keyError('invalid image_key: media needs a cover image');
      return { stored: { file_key: file.key, image_key: value.image_key, file_name: file.fileName ?? '', duration: file.durationMs ?? 0 } };
    }
  }
}

/**
 * Validates `content` (the JSON string of a send/reply/patch body) for `msgType`. An interactive
 * content may name a card entity instead (`cardId`); the caller checks the entity itself. `media`
 * answers the sending app's own uploads: images, files and card images must be among them.
 * `stored` is the content as Lark keeps it (it differs for media messages).
 */
export function checkContent(
  msgType: string,
  content: unknown,
  opts: { tableLimit: number; allowEntity?: boolean; media: OwnMedia },
): { ok: true; value: Json; cardId?: string; stored: string } | { ok: false; error: LarkError } {
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
    const entity = entityReference(value);
    if (entity && 'cardId' in entity && opts.allowEntity) return { ok: true, value, cardId: entity.cardId, stored: content };
    if (entity) return { ok: false, error: 'error' in entity ? entity.error : cardFailed('a card entity cannot be used here') };
    error = checkCard(value) ?? cardLimitError(value, opts.tableLimit) ?? cardImageError(value, opts.media);
  } else if (msgType === 'post') {
    const locales = Object.keys(value);
    if (locales.length === 0) error = invalid('post content needs at least one locale, e.g. {"zh_cn":{...}}');
    for (const locale of locales) {
      if (error) break;
      error = /^[a-z]{2}_[a-z]{2}$/.test(locale)
        ? checkPostBody(value[locale], locale, opts.media)
        : invalid(`post content must be keyed by locale, got "${locale}"`);
    }
  } else {
    const checked = checkMediaContent(msgType as 'image' | 'file' | 'audio' | 'media', value, opts.media);
    if ('error' in checked) return { ok: false, error: checked.error };
    return { ok: true, value: checked.stored, stored: JSON.stringify(checked.stored) };
  }
  return error ? { ok: false, error } : { ok: true, value, stored: content };
}

/** A card may be patched only when it says so itself. */
export function isSharedCard(card: Json): boolean {
  return isObject(card.config) && card.config.update_multi === true;
}
