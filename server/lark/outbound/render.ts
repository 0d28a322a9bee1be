import { botText } from './bot-text';
import { escapeLarkMarkdown, escapeLarkText, neutralizeTextTags, sanitizeAgentMarkdown } from './lark-markup';
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

export function markdownCard(content: string, header?: { title: string; template?: string }): LarkCard {
  return {
    schema: '2.0',
    config: { update_multi: true },
    ...(header && { header: { title: { tag: 'plain_text', content: header.title }, template: header.template ?? 'blue' } }),
    body: { elements: [{ tag: 'markdown', content }] },
  };
}

export type RenderedMessage = { msgType: 'text'; content: { text: string } } | { msgType: 'interactive'; content: LarkCard };

/**
 * An agent's reply: plain text, or markdown cards when it contains markdown; long replies become
 * several messages; empty sends nothing. Either way it cannot carry a Lark tag (see lark-markup.ts).
 */
export function renderReply(text: string): RenderedMessage[] {
  if (text.trim().length === 0) return [];
  const visible = (part: string) => part.trim().length > 0;
  if (containsMarkdown(text)) {
    return splitForLark(sanitizeAgentMarkdown(text), CARD_PART_BYTES)
      .filter(visible)
      .map((part) => ({ msgType: 'interactive', content: markdownCard(part) }));
  }
  return splitForLark(neutralizeTextTags(text), TEXT_PART_BYTES)
    .filter(visible)
    .map((part) => ({ msgType: 'text', content: { text: part } }));
}

/**
 * A failed run, as the Lark user sees it: what happened in their language and a reference to give
 * an admin. What went wrong stays in the logs and the admin's view, never in the chat.
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

export function bindingPromptCard(input: { agentName: string; workspaceName: string; url: string; ttlMinutes: number }): RenderedMessage {
  return {
    msgType: 'interactive',
    content: {
      schema: '2.0',
      config: { update_multi: true },
      header: { title: { tag: 'plain_text', content: 'Connect your Larkspur account' }, template: 'blue' },
      body: {
        elements: [
          {
            tag: 'markdown',
            content: `To talk to **${escapeLarkMarkdown(input.agentName)}**, link your Lark account to your account in the **${escapeLarkMarkdown(input.workspaceName)}** workspace once. The link works for ${input.ttlMinutes} minutes and only once.`,
          },
          { tag: 'button', text: { tag: 'plain_text', content: 'Connect account' }, type: 'primary', behaviors: [{ type: 'open_url', default_url: input.url }] },
        ],
      },
    },
  };
}

/** The bot's plain-text notices: what the dispatcher decided to tell the user instead of an agent answer. */
export type NoticeBody =
  | { kind: 'agent_offline'; agentName: string }
  | { kind: 'agent_archived'; agentName: string }
  | { kind: 'issue_created'; identifier: string; title: string; url: string }
  | { kind: 'issue_usage' };

export function renderNotice(body: NoticeBody): RenderedMessage {
  const text = (() => {
    switch (body.kind) {
      case 'agent_offline':
        return `${escapeLarkText(body.agentName)} is offline: it has no runtime configured in Larkspur. Ask its owner to set one up.`;
      case 'agent_archived':
        return `${escapeLarkText(body.agentName)} has been archived in Larkspur and no longer answers messages.`;
      case 'issue_created':
        return `Created ${body.identifier} — ${escapeLarkText(body.title)}\n${body.url}`;
      case 'issue_usage':
        return 'Usage: /issue <title>\nAdd a description on the lines below the title. A bare /issue turns your previous message into the issue.';
    }
  })();
  return { msgType: 'text', content: { text } };
}
