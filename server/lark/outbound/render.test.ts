import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { bindingPromptCard, commandUsageNotice, containsMarkdown, errorCard, renderNotice, renderReply, splitForLark, unbindConfirmCard, type NoticeBody } from './render';

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
    '![](img_v3_02ab_k)',
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

  test('an answer with an image is a card showing only the uploaded image keys', () => {
    const [card] = renderReply('![](img_v3_02ab_k) ![x](https://e.com/x.png)', { imageKeys: new Set(['img_v3_02ab_k']) });
    expect(card.msgType).toBe('interactive');
    expect(JSON.stringify(card.content)).toContain('![](img_v3_02ab_k) [x](https://e.com/x.png)');
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

describe("the bot's words in its language", () => {
  const text = (m: ReturnType<typeof renderNotice>) => (m.msgType === 'text' ? m.content.text : JSON.stringify(m.content));

  test('the binding prompt: title, body and button in the given locale, English without one', () => {
    const input = { agentName: 'Ada', workspaceName: 'Acme', url: 'https://larkspur.example/lark/bind?token=t', ttlMinutes: 15 };
    const zh = JSON.stringify(bindingPromptCard({ ...input, locale: 'zh-Hans' }).content);
    expect(zh).toContain('关联你的 Larkspur 账号');
    expect(zh).toContain('15 分钟');
    expect(zh).toContain('"关联账号"');
    expect(JSON.stringify(bindingPromptCard({ ...input, locale: 'ko' }).content)).toContain('Larkspur 계정 연결');
    const en = JSON.stringify(bindingPromptCard(input).content);
    expect(en).toContain('Connect your Larkspur account');
    expect(en).toContain('"Connect account"');
    expect(en).toContain('https://larkspur.example/lark/bind?token=t');
  });

  test('every notice has words in every locale, and names cannot become Lark markup', () => {
    const bodies: NoticeBody[] = [
      { kind: 'agent_offline', agentName: '<at user_id="all"></at>' },
      { kind: 'agent_archived', agentName: 'Ada' },
      { kind: 'issue_created', identifier: 'MUL-3', title: 'Fix [it](https://evil)', url: 'https://larkspur.example/i/1' },
      { kind: 'issue_usage' },
      { kind: 'session_reset' },
      { kind: 'unbound', workspaceName: 'Acme' },
      { kind: 'unbound', workspaceName: null },
      { kind: 'bot_intro', agentName: 'Ada' },
      { kind: 'command_usage', command: '/frobnicate' },
      { kind: 'command_usage' },
      { kind: 'unbind_confirm', bindingId: '00000000-0000-4000-8000-000000000001', workspaceName: 'Acme' },
    ];
    for (const locale of ['en', 'zh-Hans', 'ja', 'ko']) {
      const rendered = bodies.map((b) => text(renderNotice(b, locale)));
      for (const r of rendered) expect(r.trim().length).toBeGreaterThan(0);
      expect(rendered[0]).not.toContain('<at');
      expect(rendered[2]).not.toContain('](');
    }
    const en = bodies.map((b) => text(renderNotice(b, 'en')));
    expect(en[0]).toMatch(/is offline/);
    expect(en[2]).toMatch(/^Created MUL-3 — Fix /);
    expect(en[3]).toMatch(/^Usage: \/issue <title>\n/);
    expect(en[4]).toBe('Started a new conversation. Earlier messages stay in the history.');
    expect(en[5]).toBe('Your Lark account is no longer linked to Acme.');
    expect(en[6]).toBe('Your Lark account is not linked.');
    expect(en[7]).toMatch(/^Hi, I'm Ada\. Mention me \(@Ada\)/);
    expect(en[8]).toMatch(/^\/frobnicate is not a command I know\.\nCommands:\n/);
    expect(en[9]).toMatch(/^Commands:\n/);
    expect(en[9]).toContain('/issue <title>');
    const zh = bodies.map((b) => text(renderNotice(b, 'zh-Hans')));
    expect(zh[0]).toContain('当前离线');
    expect(zh[3]).toContain('/issue <标题>');
    expect(zh[4]).toBe('已开始新的对话。之前的消息仍保留在历史记录中。');
    const ja = bodies.map((b) => text(renderNotice(b, 'ja')));
    expect(ja[5]).toContain('Acme');
    expect(ja[7]).toContain('こんにちは、Ada です');
  });

  test('the /unbind confirmation calls back with the binding and names the workspace', () => {
    const card = unbindConfirmCard({ bindingId: 'b-1', workspaceName: 'Acme *Corp*', locale: 'ja' }).content as {
      header: { title: { content: string } };
      body: { elements: Array<Record<string, unknown>> };
    };
    expect(card.header.title.content).toBe('Lark アカウントの関連付けを解除しますか？');
    const button = card.body.elements.find((e) => e.tag === 'button') as { type: string; text: { content: string }; behaviors: unknown[] };
    expect(button).toMatchObject({ type: 'danger', text: { content: '関連付けを解除' }, behaviors: [{ type: 'callback', value: { a: 'unbind', binding: 'b-1' } }] });
    const markdown = card.body.elements.filter((e) => e.tag === 'markdown').map((e) => String(e.content));
    expect(markdown[0]).toContain('Acme &#42;Corp&#42;');
    expect(markdown[1]).toBe('関連付けをそのままにする場合は、このメッセージを無視してください。');
  });
});

describe('commands that work only in a direct chat', () => {
  test('say so when used in a group, in the bot language, with the list of commands', () => {
    const en = commandUsageNotice({ command: '/new' }, 'en');
    expect(en).toMatchObject({ msgType: 'text' });
    const text = (en.content as { text: string }).text;
    expect(text).toContain('/new works only in a direct chat with me.');
    expect(text).toContain('/issue');
    const zh = (commandUsageNotice({ command: '/unbind' }, 'zh-Hans').content as { text: string }).text;
    expect(zh).toContain('/unbind 只能在与我的单聊中使用。');
    // Anything else is still an unknown command.
    expect((commandUsageNotice({ command: '/frobnicate' }, 'en').content as { text: string }).text).toContain('is not a command I know');
  });
});
