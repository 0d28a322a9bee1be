/**
 * Lark refuses a card with more than a few tables (230099, sub-code 11310). Peers put the ceiling
 * between 3 and 5; we keep 3 and turn every further table into a code block, which shows the same
 * cells aligned instead of failing the whole card.
 */
export const MAX_CARD_TABLES = 3;

const isTableRow = (line: string) => /^\s*\|.*\|\s*$/.test(line);
const isFence = (line: string) => /^\s*(```|~~~)/.test(line);

export function limitCardTables(markdown: string, max = MAX_CARD_TABLES): string {
  const lines = markdown.split('\n');
  const out: string[] = [];
  let tables = 0;
  let inFence = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (isFence(line)) inFence = !inFence;
    // A table is a header row followed by a delimiter row (| --- | :-: |).
    const startsTable = !inFence && isTableRow(line) && i + 1 < lines.length && /^\s*\|?\s*:?-{2,}/.test(lines[i + 1]);
    if (!startsTable) {
      out.push(line);
      continue;
    }
    let end = i;
    while (end + 1 < lines.length && isTableRow(lines[end + 1])) end++;
    tables++;
    const block = lines.slice(i, end + 1);
    if (tables <= max) out.push(...block);
    else out.push('```text', ...block, '```');
    i = end;
  }
  return out.join('\n');
}
