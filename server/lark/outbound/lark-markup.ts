// What Lark would read as markup in text we send. Lark renders tags of its own inside card markdown
// (`<at id=all>` notifies the whole chat, `<font>`, `<a>`, `<link>`, `<text_tag>`, `<person>`…) and
// inside plain text messages (`<at user_id="all">`, `<b>`, `<i>`, links), so anything a user or an
// agent chose must pass through one of these before it reaches a message.

/** Zero-width space: invisible, but no tag or link syntax survives one inserted into it. */
const ZWSP = '\u200b';

// Markdown syntax (emphasis, links, images, code, headings, tables, strikethrough), tags and
// entities, autolinks (`:`) and formulas (`$`). Lark's markdown reads HTML character references.
const MARKDOWN_SYNTAX = /[\\`*_[\]()#~|<>&:$]/g;

/**
 * A name or other user-supplied text placed inside card markdown, rendered exactly as written:
 * `[click](https://evil)` stays those characters, `<at id=all></at>` mentions nobody. Line breaks
 * become spaces, since a name sits inside a sentence.
 */
export function escapeLarkMarkdown(text: string): string {
  return text.replace(/[\r\n\u2028\u2029]+/g, ' ').replace(MARKDOWN_SYNTAX, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * User-supplied text placed inside a plain text message. Text messages do not decode character
 * references, so the markup is broken up instead: no tag can open (`<at`, `<b>`, `</at>`…) and no
 * `[label](url)` link can form; what the reader sees is unchanged.
 */
export function escapeLarkText(text: string): string {
  return neutralizeTextTags(text).replaceAll('](', `]${ZWSP}(`);
}

/** An agent's plain text reply: its words as written, but no tag Lark would act on (a mention of everyone above all). */
export function neutralizeTextTags(text: string): string {
  return text.replace(/<(?=[a-z/!?])/gi, `<${ZWSP}`);
}

/** What an image shows in a card when the image itself cannot be shown. */
export const IMAGE_MARK = '\u{1F5BC}\uFE0F';

export type AgentMarkdownOptions = {
  /** The image keys this delivery uploaded: the only image targets a card may show (Lark fails a whole card for any other). */
  imageKeys?: ReadonlySet<string>;
  /** While an answer streams nothing is uploaded: every image shows as its alt text with an image mark. */
  imagePlaceholders?: boolean;
};

/**
 * An agent's markdown reply stays markdown (lists, emphasis, links, code), but nothing in it may
 * become a Lark tag. Outside code every `<` becomes `&lt;`, which Lark shows as `<` and never reads
 * as a tag, so no mention, font, link or other tag can be produced. Inside code spans and fenced
 * blocks references are not decoded, so the code is left as written (`<div>` stays copyable) except
 * for `<at`, the one tag that notifies people, which gets a zero-width break.
 *
 * Images are the other way a card fails: Lark shows only image keys the app uploaded. An image whose
 * target is one of `imageKeys` stays an image; one of an outside page becomes a link to it; any other
 * (a data: URL, an attachment nobody uploaded) becomes its alt text with an image mark.
 */
export function sanitizeAgentMarkdown(markdown: string, options: AgentMarkdownOptions = {}): string {
  const out: string[] = [];
  let fence: { char: string; length: number } | null = null;
  let prose: string[] = [];
  const flushProse = () => {
    if (prose.length > 0) out.push(escapeProse(prose.join('\n'), options));
    prose = [];
  };
  const source = options.imagePlaceholders ? withoutUnfinishedImage(markdown) : markdown;
  for (const line of source.split('\n')) {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      out.push(breakCodeLine(line));
      // A closing fence: the same character, at least as long, nothing after it but spaces.
      const closing = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line)?.[1];
      if (closing && closing[0] === fence.char && closing.length >= fence.length) fence = null;
      continue;
    }
    if (marker) {
      flushProse();
      fence = { char: marker[0], length: marker.length };
      out.push(breakCodeLine(line));
      continue;
    }
    prose.push(line);
  }
  flushProse();
  return out.join('\n');
}

/** The image an answer is still writing (its target not closed yet, a data: URL half sent) shows as its mark, not as characters. */
function withoutUnfinishedImage(markdown: string): string {
  const at = markdown.lastIndexOf('![');
  if (at === -1) return markdown;
  const tail = /^!\[([^\]\n]*)(?:\]\([^)\s]*)?$/.exec(markdown.slice(at));
  return tail ? markdown.slice(0, at) + imageMark(tail[1]) : markdown;
}

const imageMark = (alt: string) => (alt.trim() ? `${IMAGE_MARK} ${alt.trim()}` : IMAGE_MARK);

/**
 * Prose outside code: images resolved or replaced, then no `<` left to open a tag. Code spans are
 * taken line by line: a pair of backticks lines apart may not be code at all (a blank line or a
 * heading between them ends the paragraph), and what sits between them must not escape the rules.
 */
function escapeProse(text: string, options: AgentMarkdownOptions): string {
  return text
    .split('\n')
    .map((line) => escapeTagsOutsideInlineCode(line, (segment) => rewriteImages(segment, options).replaceAll('<', '&lt;')))
    .join('\n');
}

type InlineImage = { alt: string; target: string; end: number };

/**
 * Every `![alt](target)` of a piece of prose made safe for a card (see sanitizeAgentMarkdown). Any
 * `![` that does not form an inline image gets a zero-width break, so no other image syntax (a
 * reference, one split over lines) can reach Lark's parser.
 */
function rewriteImages(text: string, options: AgentMarkdownOptions): string {
  let out = '';
  let i = 0;
  for (;;) {
    const at = text.indexOf('![', i);
    if (at === -1) return out + text.slice(i);
    out += text.slice(i, at);
    if (isEscaped(text, at)) {
      out += '!';
      i = at + 1;
      continue;
    }
    const image = parseInlineImage(text, at);
    if (!image) {
      out += `!${ZWSP}`;
      i = at + 1;
      continue;
    }
    out += renderImage(image, options);
    i = image.end;
  }
}

function renderImage(image: InlineImage, options: AgentMarkdownOptions): string {
  // The alt text is markdown too: an image inside it passes the same rule.
  const alt = rewriteImages(image.alt, options);
  if (options.imagePlaceholders) return imageMark(alt);
  if (options.imageKeys?.has(image.target)) return `![${alt}](${image.target})`;
  if (/^https?:\/\/\S+$/i.test(image.target)) return `[${alt.trim() || image.target}](${image.target.replace(/[()<>]/g, (c) => encodeURIComponent(c))})`;
  return imageMark(alt);
}

/** Whether the character at `at` is escaped by an odd run of backslashes before it. */
function isEscaped(text: string, at: number): boolean {
  let n = 0;
  while (at - n - 1 >= 0 && text[at - n - 1] === '\\') n++;
  return n % 2 === 1;
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n';

/** The inline image starting at `at` (`![alt](target "title")`, target optionally in `<>`), or null when there is none. */
function parseInlineImage(text: string, at: number): InlineImage | null {
  let j = at + 2;
  for (let depth = 1; j < text.length; j++) {
    const c = text[j];
    if (c === '\\') j++;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) break;
  }
  if (j >= text.length || text[j + 1] !== '(') return null;
  const alt = text.slice(at + 2, j);
  let k = j + 2;
  while (isSpace(text[k])) k++;
  let target: string;
  if (text[k] === '<') {
    const close = text.indexOf('>', k + 1);
    if (close === -1 || text.slice(k + 1, close).includes('\n')) return null;
    target = text.slice(k + 1, close);
    k = close + 1;
  } else {
    const start = k;
    for (let parens = 0; k < text.length; k++) {
      const c = text[k];
      if (c === '\\') k++;
      else if (isSpace(c)) break;
      else if (c === '(') parens++;
      else if (c === ')' && parens-- === 0) break;
    }
    target = text.slice(start, k);
  }
  while (isSpace(text[k])) k++;
  const titleClose = text[k] === '"' ? '"' : text[k] === "'" ? "'" : text[k] === '(' ? ')' : null;
  if (titleClose) {
    const close = text.indexOf(titleClose, k + 1);
    if (close === -1) return null;
    k = close + 1;
    while (isSpace(text[k])) k++;
  }
  if (text[k] !== ')') return null;
  return { alt, target: target.trim(), end: k + 1 };
}

const breakMentionTags = (code: string) => code.replace(/<(?=\/?at\b)/gi, `<${ZWSP}`);
/**
 * A line of a fenced block: no mention, and no image either, in case Lark reads the fence
 * differently (a `~~~` fence, one inside a list) and parses the line as prose after all.
 */
const breakCodeLine = (code: string) => breakMentionTags(code).replaceAll('![', `!${ZWSP}[`);

/** Applies `prose` to the text outside inline code spans (a backtick run closed by a run of the same length), leaving the spans as written. */
function escapeTagsOutsideInlineCode(text: string, prose: (segment: string) => string): string {
  let result = '';
  let i = 0;
  while (i < text.length) {
    // An escaped backtick is a literal one, never the start of a span.
    let tick = text.indexOf('`', i);
    while (tick !== -1 && isEscaped(text, tick)) tick = text.indexOf('`', tick + 1);
    if (tick === -1) {
      result += prose(text.slice(i));
      break;
    }
    result += prose(text.slice(i, tick));
    let runEnd = tick;
    while (text[runEnd] === '`') runEnd++;
    const run = text.slice(tick, runEnd);
    const close = findClosingRun(text, runEnd, run.length);
    if (close === -1) {
      // An unmatched run is literal backticks.
      result += run;
      i = runEnd;
      continue;
    }
    result += run + breakMentionTags(text.slice(runEnd, close)) + run;
    i = close + run.length;
  }
  return result;
}

function findClosingRun(text: string, from: number, length: number): number {
  let i = from;
  while (i < text.length) {
    const tick = text.indexOf('`', i);
    if (tick === -1) return -1;
    let end = tick;
    while (text[end] === '`') end++;
    if (end - tick === length) return tick;
    i = end;
  }
  return -1;
}
