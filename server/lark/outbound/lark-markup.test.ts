import fc from 'fast-check';
import { marked } from 'marked';
import { describe, expect, test } from 'vitest';
import { escapeLarkMarkdown, escapeLarkText, IMAGE_MARK, neutralizeTextTags, sanitizeAgentMarkdown } from './lark-markup';

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

describe('images in agent markdown', () => {
  const uploaded = new Set(['img_v3_02ab_uploaded']);
  const mark = (alt: string) => (alt ? `${IMAGE_MARK} ${alt}` : IMAGE_MARK);
  /** Every image a markdown parser finds in the text, by target. */
  const imageTargets = (markdown: string) => {
    const targets: string[] = [];
    marked.walkTokens(marked.lexer(markdown), (token) => {
      if (token.type === 'image') targets.push((token as { href: string }).href);
    });
    return targets;
  };

  test('an uploaded image_key stays an image; an outside URL becomes a link; anything else its alt text', () => {
    expect(sanitizeAgentMarkdown('see ![chart](img_v3_02ab_uploaded) here', { imageKeys: uploaded })).toBe('see ![chart](img_v3_02ab_uploaded) here');
    expect(sanitizeAgentMarkdown('![chart](https://example.com/a.png "Title")', { imageKeys: uploaded })).toBe('[chart](https://example.com/a.png)');
    expect(sanitizeAgentMarkdown('![](https://example.com/a.png)')).toBe('[https://example.com/a.png](https://example.com/a.png)');
    expect(sanitizeAgentMarkdown('![chart](data:image/png;base64,iVBORw0KGgo=)', { imageKeys: uploaded })).toBe(mark('chart'));
    expect(sanitizeAgentMarkdown('![chart](attachment:0b8c2f5e-9a3b-4c1d-8e7f-1a2b3c4d5e6f)', { imageKeys: uploaded })).toBe(mark('chart'));
    // A key nobody uploaded for this answer fails a card like an outside URL would.
    expect(sanitizeAgentMarkdown('![chart](img_v3_02ab_someone_elses)', { imageKeys: uploaded })).toBe(mark('chart'));
    expect(sanitizeAgentMarkdown('![](javascript:alert(1))')).toBe(mark(''));
  });

  test('an image inside alt text or a link label passes the same rule; code keeps its text', () => {
    expect(imageTargets(sanitizeAgentMarkdown('[![badge](https://ci.example/b.svg)](https://ci.example)'))).toEqual([]);
    expect(imageTargets(sanitizeAgentMarkdown('![![x](https://e.com/i.png)](img_v3_02ab_uploaded)', { imageKeys: uploaded }))).toEqual(['img_v3_02ab_uploaded']);
    // Code shows its text: a span as written; a fenced block with an invisible break in any image, in case Lark reads the fence as prose.
    expect(sanitizeAgentMarkdown('`![a](https://e.com/i.png)`\n~~~\n![b](data:x)\n~~~')).toBe('`![a](https://e.com/i.png)`\n~~~\n!\u200b[b](data:x)\n~~~');
  });

  test('image syntax that is not an inline image cannot become one', () => {
    const out = sanitizeAgentMarkdown('![logo][r]\n\n[r]: https://e.com/r.png');
    expect(out).toContain(`!${'\u200b'}[logo][r]`);
    expect(imageTargets(out)).toEqual([]);
    // An escaped mark is not an image: the link after it stays a link.
    expect(sanitizeAgentMarkdown('\\![a](https://e.com)')).toBe('\\![a](https://e.com)');
    // Backticks that form no code span (escaped, or lines apart across a paragraph break) shelter nothing.
    const definition = '[r]: https://e.com/r.png\n\n';
    expect(imageTargets(sanitizeAgentMarkdown(`${definition}\\\`![r]\``))).toEqual([]);
    expect(imageTargets(sanitizeAgentMarkdown(`\`a\n\n${definition}![r]\``))).toEqual([]);
  });

  test('whatever the input, the only image a card can show is an uploaded key', () => {
    const pieces = [
      '![', '[', ']', '](', '(', ')', 'https://e.com/i.png', 'data:image/png;base64,iVBO', 'img_v3_02ab_uploaded', 'img_v3_02ab_other',
      'attachment:0b8c2f5e-9a3b-4c1d-8e7f-1a2b3c4d5e6f', ' ', 'alt', '\n', '\\', '<', '>', '"t"', '`', '```\n', '\n[r]: https://e.com/r.png\n', '![r]', '![r][]',
      '\n\n', '    ', '> ', '- ', '# ', '~~~\n', '&#33;',
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 30 }), (parts) => {
        const out = sanitizeAgentMarkdown(parts.join(''), { imageKeys: uploaded });
        for (const target of imageTargets(out)) expect(target).toBe('img_v3_02ab_uploaded');
      }),
      { numRuns: 500 },
    );
  });

  test('while streaming every image is its alt text with an image mark, a half-written one too', () => {
    const options = { imagePlaceholders: true, imageKeys: uploaded };
    expect(sanitizeAgentMarkdown('Here: ![chart](img_v3_02ab_uploaded) and ![](https://e.com/i.png)', options)).toBe(`Here: ${mark('chart')} and ${mark('')}`);
    expect(sanitizeAgentMarkdown('Here: ![sales chart](data:image/png;base64,iVBORw0KGgoAAAANSUhE', options)).toBe(`Here: ${mark('sales chart')}`);
    expect(sanitizeAgentMarkdown('Here: ![sales ch', options)).toBe(`Here: ${mark('sales ch')}`);
  });
});
