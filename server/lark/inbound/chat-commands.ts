export type ChatCommand = { kind: 'new' | 'unbind'; typed: string };

/**
 * `/new` (start a fresh conversation) and `/unbind` (unlink the Lark account). Only the command on
 * its own counts: `/new` followed by text is a message for the agent like any other, so nothing a
 * person wrote is silently thrown away.
 */
export function parseChatCommand(text: string): ChatCommand | null {
  const match = /^\/(new|unbind)$/i.exec(text.trim());
  if (!match) return null;
  return { kind: match[1].toLowerCase() as ChatCommand['kind'], typed: `/${match[1].toLowerCase()}` };
}
