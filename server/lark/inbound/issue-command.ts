export type IssueCommand = { kind: 'create'; title: string; description: string } | { kind: 'bare' };

/**
 * `/issue <title>` with the following lines as the description; a bare `/issue` (nothing after it)
 * asks for the sender's previous message as the title. Anything else is not a command.
 */
export function parseIssueCommand(text: string): IssueCommand | null {
  const trimmed = text.replace(/^\s+/, '');
  const match = /^\/issue(?=$|\s)/i.exec(trimmed);
  if (!match) return null;
  const rest = trimmed.slice(match[0].length);
  const newline = rest.indexOf('\n');
  const firstLine = (newline === -1 ? rest : rest.slice(0, newline)).trim();
  const description = newline === -1 ? '' : rest.slice(newline + 1).trim();
  if (!firstLine) {
    if (description) {
      const [title, ...more] = description.split('\n');
      return { kind: 'create', title: title.trim().slice(0, 300), description: more.join('\n').trim() };
    }
    return { kind: 'bare' };
  }
  return { kind: 'create', title: firstLine.slice(0, 300), description };
}
