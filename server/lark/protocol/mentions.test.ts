import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InboundMention } from './event-decoder';
import { isBotMentioned, isMentionOfBot, rewriteMentionsForAgent } from './mentions';

function mention(key: string, name: string, ids: { openId?: string; unionId?: string } = {}): InboundMention {
  return { key, name, openId: ids.openId ?? null, unionId: ids.unionId ?? null, userId: null };
}

const botWithUnion = { unionId: 'on_bot', openId: 'ou_bot_api' };
const botWithoutUnion = { unionId: null, openId: 'ou_bot_api' };
const self = mention('@_user_1', 'Bot', { unionId: 'on_bot', openId: 'ou_bot_event' });
const alice = mention('@_user_2', 'Alice', { unionId: 'on_alice', openId: 'ou_alice' });

describe('isBotMentioned', () => {
  it('matches on union_id when the installation knows it, even if the open_id differs', () => {
    expect(isBotMentioned([alice, self], botWithUnion)).toBe(true);
  });

  it('does not fall back to open_id when union_id is known', () => {
    const openIdOnlyMatch = mention('@_user_3', 'Other bot', { unionId: 'on_other_bot', openId: 'ou_bot_api' });
    expect(isBotMentioned([openIdOnlyMatch], botWithUnion)).toBe(false);
  });

  it('falls back to open_id only when the installation has no union_id', () => {
    expect(isBotMentioned([mention('@_user_1', 'Bot', { openId: 'ou_bot_api', unionId: 'on_whatever' })], botWithoutUnion)).toBe(true);
    expect(isBotMentioned([mention('@_user_1', 'Bot', { openId: 'ou_bot_event', unionId: 'on_bot' })], botWithoutUnion)).toBe(false);
    expect(isBotMentioned([mention('@_user_1', 'Bot', { openId: 'ou_bot_api' })], { openId: 'ou_bot_api' })).toBe(true);
  });

  it('never matches a mention without ids', () => {
    expect(isMentionOfBot(mention('@_user_1', 'X'), { openId: '' })).toBe(false);
    expect(isBotMentioned([], botWithUnion)).toBe(false);
  });
});

describe('rewriteMentionsForAgent', () => {
  it('removes the bot mention with the following space and names the others', () => {
    expect(rewriteMentionsForAgent('@_user_1 ask @_user_2 about it', [self, alice], botWithUnion)).toBe('ask @Alice about it');
  });

  it('prefers the longest placeholder: @_user_1 next to @_user_10', () => {
    const mentions = [self, ...Array.from({ length: 8 }, (_, i) => mention(`@_user_${i + 2}`, `User${i + 2}`))];
    const tenth = mention('@_user_10', 'Tenth', { unionId: 'on_ten' });
    expect(rewriteMentionsForAgent('@_user_10 and @_user_1 hi @_user_1', [...mentions, tenth], botWithUnion)).toBe('@Tenth and hi');
    // Order of the mention list does not matter.
    expect(rewriteMentionsForAgent('@_user_10@_user_1 x', [tenth, ...mentions].reverse(), botWithUnion)).toBe('@Tenthx');
  });

  it('keeps newlines, tabs and indentation around mentions', () => {
    const text = '@_user_1\n\tline one @_user_2\n    indented\t\ttabs  two spaces\n';
    expect(rewriteMentionsForAgent(text, [self, alice], botWithUnion)).toBe('\n\tline one @Alice\n    indented\t\ttabs  two spaces\n');
  });

  it('removes every occurrence when the bot is mentioned twice', () => {
    expect(rewriteMentionsForAgent('@_user_1 @_user_1 hello  world', [self], botWithUnion)).toBe('hello  world');
  });

  it('removes the preceding space when the bot mention ends the input', () => {
    expect(rewriteMentionsForAgent('thanks @_user_1', [self], botWithUnion)).toBe('thanks');
    expect(rewriteMentionsForAgent('thanks  @_user_1', [self], botWithUnion)).toBe('thanks ');
    expect(rewriteMentionsForAgent('@_user_1', [self], botWithUnion)).toBe('');
  });

  it('eats only a following space, not a newline or tab', () => {
    expect(rewriteMentionsForAgent('hi @_user_1\nnext', [self], botWithUnion)).toBe('hi \nnext');
    expect(rewriteMentionsForAgent('@_user_1\tx', [self], botWithUnion)).toBe('\tx');
  });

  it('uses the same identity policy as routing: union_id first', () => {
    const otherBotSameOpenId = mention('@_user_3', 'Sibling', { unionId: 'on_sibling', openId: 'ou_bot_api' });
    expect(rewriteMentionsForAgent('@_user_1 @_user_3 hi', [self, otherBotSameOpenId], botWithUnion)).toBe('@Sibling hi');
    expect(rewriteMentionsForAgent('@_user_1 @_user_3 hi', [self, otherBotSameOpenId], botWithoutUnion)).toBe('@Bot hi');
  });

  it('leaves a mention without a name as its placeholder and keeps text without mentions intact', () => {
    expect(rewriteMentionsForAgent('@_user_5 x', [mention('@_user_5', '')], botWithUnion)).toBe('@_user_5 x');
    expect(rewriteMentionsForAgent('mail me @ home', [alice], botWithUnion)).toBe('mail me @ home');
  });

  it('changes nothing but placeholders (property)', () => {
    const safeText = fc.string().filter((s) => !s.includes('@'));
    fc.assert(
      fc.property(fc.array(safeText, { minLength: 1, maxLength: 6 }), (pieces) => {
        const text = pieces.join('@_user_2');
        const expected = pieces.join('@Alice');
        expect(rewriteMentionsForAgent(text, [self, alice], botWithUnion)).toBe(expected);
      }),
    );
  });
});
