import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { containsMarkdown, errorCard, renderReply, splitForLark } from './render';

describe('containsMarkdown', () => {
  test.each(['plain words here', 'sure, on it', 'costs 5 * 3 dollars', 'email me at a_b_c@x.io', 'see https://example.com'])('prose: %j', (t) => {
    expect(containsMarkdown(t)).toBe(false);
  });
  test.each([
    '```js\nx\n```',
    '# Title',
    '- one\n- two',
    '1. first',
    '> quoted',
    '| a | b |\n|---|---|',
    'this is **bold**',
    'a [link](https://x.io)',
    'run `npm test`',
    '---',
    '~~gone~~',
    'an *emphasis* here',
  ])('markdown: %j', (t) => {
    expect(containsMarkdown(t)).toBe(true);
  });
});

describe('renderReply', () => {
  test('empty sends nothing; prose is text; markdown is a schema 2.0 card with update_multi', () => {
    expect(renderReply('  \n ')).toEqual([]);
    expect(renderReply('hello')).toEqual([{ msgType: 'text', content: { text: 'hello' } }]);
    const [card] = renderReply('**hi**');
    expect(card).toEqual({
      msgType: 'interactive',
      content: { schema: '2.0', config: { update_multi: true }, body: { elements: [{ tag: 'markdown', content: '**hi**' }] } },
    });
  });

  test('long prose is split into several text messages, nothing lost', () => {
    const text = Array.from({ length: 5000 }, (_, i) => `Sentence number ${i} with some words.`).join(' ');
    const parts = renderReply(text);
    expect(parts.length).toBeGreaterThan(1);
    const joined = parts.map((p) => (p.content as { text: string }).text).join('');
    expect(joined).toBe(text);
    for (const p of parts) expect(Buffer.byteLength(JSON.stringify(p.content))).toBeLessThan(150_000);
  });
});

describe('splitForLark', () => {
  test('never splits a multi-byte character and respects the byte budget', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 3000 }), fc.integer({ min: 40, max: 400 }), (text, max) => {
        const parts = splitForLark(text, max);
        for (const p of parts) {
          expect(Buffer.byteLength(p)).toBeLessThanOrEqual(max);
          expect(p).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
        }
        if (!/```|~~~/.test(text)) expect(parts.join('')).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  test('without fences the parts concatenate back to the original', () => {
    const text = '中文字符和emoji 🎉 '.repeat(500);
    const parts = splitForLark(text, 1000);
    expect(parts.length).toBeGreaterThan(3);
    expect(parts.join('')).toBe(text);
  });

  test('a fenced block cut in two is closed and reopened', () => {
    const code = Array.from({ length: 200 }, (_, i) => `console.log(${i});`).join('\n');
    const parts = splitForLark(`Intro\n\n\`\`\`js\n${code}\n\`\`\`\nOutro`, 1200);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect((p.match(/^```/gm) ?? []).length % 2).toBe(0);
    expect(parts[1].startsWith('```js\n')).toBe(true);
  });
});

describe('errorCard', () => {
  test("tells the user in their language that the run failed, with a reference, and nothing of the failure's own text", () => {
    const en = JSON.stringify(errorCard({ agentName: 'Ada', reference: 'a1b2c3d4', locale: 'en' }).content);
    expect(en).toContain('Ada ran into an error');
    expect(en).toContain('a1b2c3d4');
    const zh = JSON.stringify(errorCard({ agentName: 'Ada', reference: 'a1b2c3d4', locale: 'zh-Hans' }).content);
    expect(zh).toContain('Ada 出错了');
    expect(zh).toContain('a1b2c3d4');
    // An unknown or missing locale falls back to English.
    expect(JSON.stringify(errorCard({ agentName: 'Ada', reference: 'r', locale: 'xx' }).content)).toContain('ran into an error');
  });
});
