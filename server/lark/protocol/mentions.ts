import type { InboundMention } from './event-decoder';

export type BotIdentity = {
  unionId?: string | null;
  openId: string;
};

type MentionIds = Pick<InboundMention, 'openId' | 'unionId'>;

// In a group with several bots, the open_id Lark puts in mentions[] does not reliably equal the bot's
// own open_id from bot/v3/info; union_id does. open_id is only trusted when no union_id is known.
export function isMentionOfBot(mention: MentionIds, bot: BotIdentity): boolean {
  if (bot.unionId) return mention.unionId === bot.unionId;
  return mention.openId !== null && mention.openId === bot.openId;
}

export function isBotMentioned(mentions: readonly MentionIds[], bot: BotIdentity): boolean {
  return mentions.some((mention) => isMentionOfBot(mention, bot));
}

// Prepares a message for the agent: the bot's own mention disappears together with exactly one
// adjacent space (the following one; at the end of the input, the preceding one); other mentions
// become `@Name`. One left-to-right scan, longest placeholder first, so `@_user_1` never eats the
// start of `@_user_10`. Every other character, whitespace included, is kept as is.
export function rewriteMentionsForAgent(text: string, mentions: readonly InboundMention[], bot: BotIdentity): string {
  if (mentions.length === 0 || !text.includes('@')) return text;
  const candidates = [...mentions].filter((m) => m.key.length > 0).sort((a, b) => b.key.length - a.key.length);
  let output = '';
  let index = 0;
  while (index < text.length) {
    const atSign = text.indexOf('@', index);
    if (atSign === -1) {
      output += text.slice(index);
      break;
    }
    output += text.slice(index, atSign);
    const mention = candidates.find((m) => text.startsWith(m.key, atSign));
    if (!mention) {
      output += '@';
      index = atSign + 1;
      continue;
    }
    let next = atSign + mention.key.length;
    if (isMentionOfBot(mention, bot)) {
      if (text[next] === ' ') next += 1;
      else if (next >= text.length && output.endsWith(' ')) output = output.slice(0, -1);
    } else {
      output += mention.name ? `@${mention.name}` : mention.key;
    }
    index = next;
  }
  return output;
}
