import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { escapeLarkMarkdown, escapeLarkText, neutralizeTextTags, sanitizeAgentMarkdown } from './lark-markup';

const decode = (s: string) => s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
const ACTIVE_TAG = /<\/?[a-z]/i;

describe('escapeLarkMarkdown', () => {
  test('every markdown or tag character becomes a reference that decodes back to the name', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (name) => {
        const escaped = escapeLarkMarkdown(name);
        expect(escaped.replace(/&#\d+;/g, '')).not.toMatch(/[\\`*_[\]()#~|<>:$&]/);
        expect(decode(escaped)).toBe(name.replace(/[\r\n\u2028\u2029]+/g, ' '));
      }),
    );
  });

  test('a name cannot start a new block', () => {
    expect(escapeLarkMarkdown('Bob\n# Heading\r\n---')).toBe('Bob &#35; Heading ---');
  });
});

describe('plain text', () => {
  test('tags cannot open and links cannot form; the visible text is unchanged', () => {
    const text = '<at user_id="all"></at> <b>x</b> [click](https://evil.example) a < b';
    expect(escapeLarkText(text)).not.toMatch(ACTIVE_TAG);
    expect(escapeLarkText(text)).not.toContain('](');
    expect(escapeLarkText(text).replaceAll('\u200b', '')).toBe(text);
    expect(neutralizeTextTags('2 < 3 and 5 > 4')).toBe('2 < 3 and 5 > 4');
  });
});

describe('sanitizeAgentMarkdown', () => {
  test('prose keeps its markdown and loses every tag', () => {
    const out = sanitizeAgentMarkdown("**Bold** <at id=all></at> <font color='red'>x</font> [docs](https://example.com)");
    expect(out).toBe("**Bold** &lt;at id=all>&lt;/at> &lt;font color='red'>x&lt;/font> [docs](https://example.com)");
  });

  test('code spans and fenced blocks keep their text; only a mention tag is broken', () => {
    expect(sanitizeAgentMarkdown('use `<div>` or ``a ` <b>``')).toBe('use `<div>` or ``a ` <b>``');
    expect(sanitizeAgentMarkdown('`<at id=all></at>`')).toBe('`<\u200bat id=all><\u200b/at>`');
    const fenced = '```html\n<div>\n<at id=all></at>\n```\n<b>after</b>';
    expect(sanitizeAgentMarkdown(fenced)).toBe('```html\n<div>\n<\u200bat id=all><\u200b/at>\n```\n&lt;b>after&lt;/b>');
  });

  test('an unclosed fence runs to the end; an unmatched backtick is literal', () => {
    expect(sanitizeAgentMarkdown('~~~\n<p>\n')).toBe('~~~\n<p>\n');
    expect(sanitizeAgentMarkdown('a ` <p>')).toBe('a ` &lt;p>');
  });

  test('whatever the input, no Lark tag survives outside code and no mention anywhere', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('<at id=all>', '</at>', '`', '```', '\n', 'text ', '<font>', '~~~', '<AT id=all>'), { maxLength: 40 }), (parts) => {
        const out = sanitizeAgentMarkdown(parts.join(''));
        expect(out).not.toMatch(/<\/?at\b/i);
      }),
    );
  });
});
