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

/**
 * An agent's markdown reply stays markdown (lists, emphasis, links, code), but nothing in it may
 * become a Lark tag. Outside code every `<` becomes `&lt;`, which Lark shows as `<` and never reads
 * as a tag, so no mention, font, link or other tag can be produced. Inside code spans and fenced
 * blocks references are not decoded, so the code is left as written (`<div>` stays copyable) except
 * for `<at`, the one tag that notifies people, which gets a zero-width break.
 */
export function sanitizeAgentMarkdown(markdown: string): string {
  const out: string[] = [];
  let fence: { char: string; length: number } | null = null;
  let prose: string[] = [];
  const flushProse = () => {
    if (prose.length > 0) out.push(escapeTagsOutsideInlineCode(prose.join('\n')));
    prose = [];
  };
  for (const line of markdown.split('\n')) {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      out.push(breakMentionTags(line));
      // A closing fence: the same character, at least as long, nothing after it but spaces.
      const closing = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line)?.[1];
      if (closing && closing[0] === fence.char && closing.length >= fence.length) fence = null;
      continue;
    }
    if (marker) {
      flushProse();
      fence = { char: marker[0], length: marker.length };
      out.push(breakMentionTags(line));
      continue;
    }
    prose.push(line);
  }
  flushProse();
  return out.join('\n');
}

const breakMentionTags = (code: string) => code.replace(/<(?=\/?at\b)/gi, `<${ZWSP}`);

/** Escapes `<` in prose, leaving inline code spans (a backtick run closed by a run of the same length) as written. */
function escapeTagsOutsideInlineCode(text: string): string {
  let result = '';
  let i = 0;
  while (i < text.length) {
    const tick = text.indexOf('`', i);
    if (tick === -1) {
      result += text.slice(i).replaceAll('<', '&lt;');
      break;
    }
    result += text.slice(i, tick).replaceAll('<', '&lt;');
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
