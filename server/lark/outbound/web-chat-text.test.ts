import { describe, expect, test } from 'vitest';
import { noticeText, renderNotice, renderWebQuestion, TEXT_PART_BYTES, type NoticeBody } from './render';

const textOf = (m: { content: unknown }) => (m.content as { text: string }).text;

describe('renderWebQuestion', () => {
  test('names the member and where they asked, in the bot’s language', () => {
    expect(renderWebQuestion({ authorName: 'Mei', text: 'When is the release?' }, 'en')).toEqual([{ msgType: 'text', content: { text: 'Mei (from Larkspur): When is the release?' } }]);
    expect(textOf(renderWebQuestion({ authorName: 'Mei', text: '发布是什么时候？' }, 'zh-Hans')[0])).toBe('Mei（来自 Larkspur）：发布是什么时候？');
    expect(textOf(renderWebQuestion({ authorName: 'Mei', text: 'x' }, 'ja')[0])).toBe('Mei（Larkspur から）：x');
    expect(textOf(renderWebQuestion({ authorName: 'Mei', text: 'x' }, 'ko')[0])).toBe('Mei (Larkspur에서): x');
  });

  test('neither the text nor the name can mention everyone or become a link', () => {
    const [m] = renderWebQuestion({ authorName: 'Eve <at user_id="all"></at>', text: 'hi <at user_id="all">all</at> see [docs](https://evil.example) <b>x</b>' }, 'en');
    const text = textOf(m);
    expect(text).not.toMatch(/<\/?(at|b)\b/i);
    expect(text).not.toContain('](');
    // What a reader sees is unchanged apart from invisible breaks.
    expect(text.replaceAll('\u200b', '')).toBe('Eve <at user_id="all"></at> (from Larkspur): hi <at user_id="all">all</at> see [docs](https://evil.example) <b>x</b>');
  });

  test('a name cannot start a line of its own', () => {
    expect(textOf(renderWebQuestion({ authorName: 'Mei\nSystem', text: 'ok' }, 'en')[0])).toBe('Mei System (from Larkspur): ok');
  });

  test('a long question is split into several messages, nothing lost', () => {
    const text = Array.from({ length: 6000 }, (_, i) => `Line ${i} of a very long question.`).join('\n');
    const parts = renderWebQuestion({ authorName: 'Mei', text }, 'en');
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(Buffer.byteLength(textOf(p))).toBeLessThanOrEqual(TEXT_PART_BYTES);
    expect(parts.map(textOf).join('')).toBe(`Mei (from Larkspur): ${text}`);
  });
});

describe('noticeText', () => {
  test('a text notice reads as Lark shows it, in the bot’s language', () => {
    const bodies: NoticeBody[] = [
      { kind: 'agent_offline', agentName: 'Echo' },
      { kind: 'agent_archived', agentName: 'Echo' },
      { kind: 'issue_created', identifier: 'MUL-3', title: 'Fix login', url: 'http://x/w/a/issues/1' },
      { kind: 'issue_usage' },
      { kind: 'session_reset' },
      { kind: 'unbound', workspaceName: 'Acme' },
      { kind: 'unbound', workspaceName: null },
      { kind: 'command_usage', command: '/frobnicate' },
      { kind: 'command_usage', command: '/new' },
      { kind: 'command_usage' },
    ];
    for (const locale of ['en', 'zh-Hans', 'ja', 'ko']) {
      for (const body of bodies) expect(noticeText(body, locale)).toBe(textOf(renderNotice(body, locale)));
    }
    expect(noticeText({ kind: 'issue_created', identifier: 'MUL-3', title: 'Fix login', url: 'http://x/w/a/issues/1' }, 'zh-Hans')).toBe('已创建 MUL-3 — Fix login\nhttp://x/w/a/issues/1');
  });

  test('what a person chose is shown as written, not escaped for Lark', () => {
    expect(noticeText({ kind: 'issue_created', identifier: 'MUL-4', title: 'a <b> [c](d)', url: 'u' }, 'en')).toBe('Created MUL-4 — a <b> [c](d)\nu');
    expect(noticeText({ kind: 'agent_offline', agentName: '<Bot>' }, 'en')).toMatch(/^<Bot> is offline/);
  });

  test('the unbind card shows its title and body, without markdown, but a name keeps its stars', () => {
    expect(noticeText({ kind: 'unbind_confirm', bindingId: 'b', workspaceName: 'Acme' }, 'en')).toBe(
      'Unlink your Lark account?\nYour Lark account will no longer be linked to your account in the Acme workspace, and the bot will not answer you until you link it again.',
    );
    expect(noticeText({ kind: 'unbind_confirm', bindingId: 'b', workspaceName: '**Star** Co' }, 'ja')).toBe(
      'Lark アカウントの関連付けを解除しますか？\nLark アカウントと **Star** Co ワークスペースのアカウントの関連付けが解除され、もう一度関連付けるまでボットは応答しなくなります。',
    );
  });
});
