import { botText } from './bot-text';
import { escapeLarkMarkdown, escapeLarkText, neutralizeTextTags, sanitizeAgentMarkdown, type AgentMarkdownOptions } from './lark-markup';
import type { LarkCard } from '../api';

/** Lark's limits are 150 KB for text and 30 KB for cards, measured on the request; these leave room for JSON escaping. */
export const TEXT_PART_BYTES = 100_000;
export const CARD_PART_BYTES = 20_000;

const MARKDOWN_PATTERNS: RegExp[] = [
  /^```/m, // fenced code
  /^#{1,6}\s+\S/m, // headings
  /^\s*[-*+]\s+\S/m, // bullet lists
  /^\s*\d+[.)]\s+\S/m, // numbered lists
  /^\s*>\s?\S/m, // quotes
  /^\s*\|.+\|\s*$/m, // tables
  /\*\*[^*\n]+\*\*/, // bold
  /__[^_\n]+__/, // bold
  /(^|[^*])\*[^*\s][^*\n]*\*(?!\*)/, // italic
  /\[[^\]\n]+\]\([^)\s]+\)/, // links
  /!\[[^\]\n]*\]\([^)\s]+\)/, // images
  /`[^`\n]+`/, // inline code
  /^\s*([-*_])(\s*\1){2,}\s*$/m, // rules
  /~~[^~\n]+~~/, // strikethrough
];

/** Leans towards yes: prose in a card still reads fine, but markdown left in a text bubble shows raw symbols. */
export function containsMarkdown(text: string): boolean {
  return MARKDOWN_PATTERNS.some((p) => p.test(text));
}

const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * Splits text into parts of at most `maxBytes` UTF-8 bytes, preferring paragraph, then line, then
 * word boundaries, never splitting a character. A fenced code block cut in two is closed at the
 * end of one part and reopened at the start of the next.
 */
export function splitForLark(text: string, maxBytes: number): string[] {
  if (utf8Bytes(text) <= maxBytes) return [text];
  const parts: string[] = [];
  let rest = text;
  let reopenFence: string | null = null;
  while (rest.length > 0) {
    const prefix: string = reopenFence ? `${reopenFence}\n` : '';
    const budget = maxBytes - utf8Bytes(prefix) - 4; // room for a closing fence
    if (utf8Bytes(rest) <= budget) {
      parts.push(prefix + rest);
      break;
    }
    // Largest prefix (in code points) within budget.
    let cut = 0;
    let bytes = 0;
    for (const ch of rest) {
      const b = utf8Bytes(ch);
      if (bytes + b > budget) break;
      bytes += b;
      cut += ch.length;
    }
    const window = rest.slice(0, cut);
    const at = [window.lastIndexOf('\n\n'), window.lastIndexOf('\n'), window.lastIndexOf(' ')].find((i) => i > cut * 0.5);
    const end = at !== undefined && at > 0 ? at + 1 : cut;
    let chunk: string = prefix + rest.slice(0, end);
    rest = rest.slice(end);
    const fences: string[] = chunk.match(/^(```|~~~)[^\n]*$/gm) ?? [];
    if (fences.length % 2 === 1) {
      const opener: string = fences[fences.length - 1];
      reopenFence = opener;
      chunk = `${chunk.replace(/\n?$/, '\n')}${opener.slice(0, 3)}`;
    } else {
      reopenFence = null;
    }
    parts.push(chunk);
  }
  return parts.filter((p) => p.length > 0);
}

/** A card JSON 2.0 of `elements`, under a plain-text title bar when `header` is given (blue unless told). */
function card(elements: Array<Record<string, unknown>>, header?: { title: string; template?: string }): LarkCard {
  return {
    schema: '2.0',
    config: { update_multi: true },
    ...(header && { header: { title: { tag: 'plain_text', content: header.title }, template: header.template ?? 'blue' } }),
    body: { elements },
  };
}

export function markdownCard(content: string, header?: { title: string; template?: string }): LarkCard {
  return card([{ tag: 'markdown', content }], header);
}

export type RenderedMessage = { msgType: 'text'; content: { text: string } } | { msgType: 'interactive'; content: LarkCard };

/**
 * An agent's reply: plain text, or markdown cards when it contains markdown; long replies become
 * several messages; empty sends nothing. Either way it cannot carry a Lark tag, and a card shows no
 * image but the uploaded ones in `options.imageKeys` (see lark-markup.ts).
 */
export function renderReply(text: string, options: AgentMarkdownOptions = {}): RenderedMessage[] {
  if (text.trim().length === 0) return [];
  const visible = (part: string) => part.trim().length > 0;
  if (containsMarkdown(text)) {
    return splitForLark(sanitizeAgentMarkdown(text, options), CARD_PART_BYTES)
      .filter(visible)
      .map((part) => ({ msgType: 'interactive', content: markdownCard(part) }));
  }
  return splitForLark(neutralizeTextTags(text), TEXT_PART_BYTES)
    .filter(visible)
    .map((part) => ({ msgType: 'text', content: { text: part } }));
}

/**
 * A failed run, as the Lark user sees it: what happened in the bot's language and a reference to
 * give an admin. What went wrong stays in the logs and the admin's view, never in the chat.
 */
export function errorCard(input: { agentName: string; reference: string; locale?: string | null }): RenderedMessage {
  const t = botText(input.locale);
  return {
    msgType: 'interactive',
    // The title is plain_text, shown as written; the body is markdown.
    content: markdownCard(t('agentError.body', { agent: escapeLarkMarkdown(input.agentName), reference: input.reference }), {
      title: t('agentError.title', { agent: input.agentName }),
      template: 'red',
    }),
  };
}

/** The card an unlinked Lark user gets: what linking does, and the single-use link (English when no locale is given). */
export function bindingPromptCard(input: { agentName: string; workspaceName: string; url: string; ttlMinutes: number; locale?: string | null }): RenderedMessage {
  const t = botText(input.locale);
  return {
    msgType: 'interactive',
    content: card(
      [
        {
          tag: 'markdown',
          content: t('bindingPrompt.body', {
            agent: escapeLarkMarkdown(input.agentName),
            workspace: escapeLarkMarkdown(input.workspaceName),
            minutes: input.ttlMinutes,
          }),
        },
        { tag: 'button', text: { tag: 'plain_text', content: t('bindingPrompt.button') }, type: 'primary', behaviors: [{ type: 'open_url', default_url: input.url }] },
      ],
      { title: t('bindingPrompt.title'), template: 'blue' },
    ),
  };
}

/**
 * `/unbind` asks before it acts: the Unlink button calls back with `{a:'unbind', binding}`; ignoring
 * the card keeps the link.
 */
export function unbindConfirmCard(input: { bindingId: string; workspaceName: string; locale?: string | null }): RenderedMessage {
  const t = botText(input.locale);
  return {
    msgType: 'interactive',
    content: card(
      [
        { tag: 'markdown', content: t('unbindConfirm.body', { workspace: escapeLarkMarkdown(input.workspaceName) }) },
        {
          tag: 'button',
          text: { tag: 'plain_text', content: t('unbindConfirm.button') },
          type: 'danger',
          behaviors: [{ type: 'callback', value: { a: 'unbind', binding: input.bindingId } }],
        },
        { tag: 'markdown', content: t('unbindConfirm.keep') },
      ],
      { title: t('unbindConfirm.title'), template: 'orange' },
    ),
  };
}

const textMessage = (text: string): RenderedMessage => ({ msgType: 'text', content: { text } });

/** After `/new`: the conversation starts afresh. */
export function sessionResetNotice(locale?: string | null): RenderedMessage {
  return textMessage(botText(locale)('notice.sessionReset'));
}

/** After `/unbind`: the link to `workspaceName` is gone, or (null) there was none to remove. */
export function unboundNotice(input: { workspaceName: string | null }, locale?: string | null): RenderedMessage {
  const t = botText(locale);
  return textMessage(input.workspaceName === null ? t('notice.notBound') : t('notice.unbound', { workspace: escapeLarkText(input.workspaceName) }));
}

/** What the bot says when it joins a group: how to ask it, and that each person links once in a direct chat. */
export function botIntroNotice(input: { agentName: string }, locale?: string | null): RenderedMessage {
  return textMessage(botText(locale)('intro', { agent: escapeLarkText(input.agentName) }));
}

/** The commands the bot knows, after the one it did not (`command`, when given). */
export function commandUsageNotice(input: { command?: string | null }, locale?: string | null): RenderedMessage {
  const t = botText(locale);
  // A pasted path or a long word after the slash is shown only in part.
  const command = input.command?.trim().slice(0, 40);
  // These exist, but only where they make sense: a person's own conversation with the bot.
  if (command === '/new' || command === '/unbind') return textMessage(`${t('commandUsage.directOnly', { command })}\n${t('commandUsage.list')}`);
  return textMessage(command ? `${t('commandUsage.unknown', { command: escapeLarkText(command) })}\n${t('commandUsage.list')}` : t('commandUsage.list'));
}

/** The bot's notices: what the dispatcher decided to tell the user instead of an agent answer. */
export type NoticeBody =
  | { kind: 'agent_offline'; agentName: string }
  | { kind: 'agent_archived'; agentName: string }
  | { kind: 'issue_created'; identifier: string; title: string; url: string }
  | { kind: 'issue_usage' }
  | { kind: 'session_reset' }
  | { kind: 'unbind_confirm'; bindingId: string; workspaceName: string }
  | { kind: 'unbound'; workspaceName: string | null }
  | { kind: 'bot_intro'; agentName: string }
  | { kind: 'command_usage'; command?: string | null };

/** A notice in the bot's language (`locale`; English when absent or unknown). */
export function renderNotice(body: NoticeBody, locale?: string | null): RenderedMessage {
  const t = botText(locale);
  switch (body.kind) {
    case 'agent_offline':
      return textMessage(t('notice.agentOffline', { agent: escapeLarkText(body.agentName) }));
    case 'agent_archived':
      return textMessage(t('notice.agentArchived', { agent: escapeLarkText(body.agentName) }));
    case 'issue_created':
      return textMessage(t('notice.issueCreated', { identifier: body.identifier, title: escapeLarkText(body.title), url: body.url }));
    case 'issue_usage':
      return textMessage(t('notice.issueUsage'));
    case 'session_reset':
      return sessionResetNotice(locale);
    case 'unbind_confirm':
      return unbindConfirmCard({ bindingId: body.bindingId, workspaceName: body.workspaceName, locale });
    case 'unbound':
      return unboundNotice(body, locale);
    case 'bot_intro':
      return botIntroNotice(body, locale);
    case 'command_usage':
      return commandUsageNotice(body, locale);
  }
}

/**
 * The words a notice shows, as plain text, for the web chat of the session it was sent in: the same
 * sentences in the same language, without Lark's escaping (the web shows text as written) and, for
 * a card, its title and body without markdown.
 */
export function noticeText(body: NoticeBody, locale?: string | null): string {
  const t = botText(locale);
  switch (body.kind) {
    case 'agent_offline':
      return t('notice.agentOffline', { agent: body.agentName });
    case 'agent_archived':
      return t('notice.agentArchived', { agent: body.agentName });
    case 'issue_created':
      return t('notice.issueCreated', { identifier: body.identifier, title: body.title, url: body.url });
    case 'issue_usage':
      return t('notice.issueUsage');
    case 'session_reset':
      return t('notice.sessionReset');
    case 'unbind_confirm':
      return `${t('unbindConfirm.title')}\n${withoutBold((slot) => t('unbindConfirm.body', { workspace: slot }), body.workspaceName)}`;
    case 'unbound':
      return body.workspaceName === null ? t('notice.notBound') : t('notice.unbound', { workspace: body.workspaceName });
    case 'bot_intro':
      return t('intro', { agent: body.agentName });
    case 'command_usage': {
      const command = body.command?.trim().slice(0, 40);
      if (command === '/new' || command === '/unbind') return `${t('commandUsage.directOnly', { command })}\n${t('commandUsage.list')}`;
      return command ? `${t('commandUsage.unknown', { command })}\n${t('commandUsage.list')}` : t('commandUsage.list');
    }
  }
}

/**
 * A message's `**bold**` markers dropped, but not inside the value put into it (a workspace may be
 * called `**x**`): the value goes in as a placeholder and is put back after.
 */
function withoutBold(format: (slot: string) => string, value: string): string {
  const slot = '\u0000';
  return format(slot).replaceAll('**', '').replace(slot, () => value);
}

/**
 * A question typed in the web chat of a Lark session, posted by the bot in the member's name. Its
 * text is escaped like any text a person chose (no mention of everyone, no disguised link) and, if
 * long, split into several messages the way replies are.
 */
export function renderWebQuestion(input: { authorName: string; text: string }, locale?: string | null): RenderedMessage[] {
  const line = botText(locale)('webQuestion', { name: escapeLarkText(input.authorName.replace(/[\r\n\u2028\u2029]+/g, ' ')), text: escapeLarkText(input.text) });
  return splitForLark(line, TEXT_PART_BYTES)
    .filter((part) => part.trim().length > 0)
    .map((part) => textMessage(part));
}
