import { describe, expect, it } from 'vitest';
import { limitCardTables } from './card-tables';

const table = (n: number) => `| h${n} | v |\n| --- | --- |\n| a${n} | b${n} |`;

describe('limitCardTables', () => {
  it('keeps up to the limit and turns further tables into code blocks', () => {
    const md = [1, 2, 3, 4, 5].map(table).join('\n\ntext\n\n');
    const out = limitCardTables(md, 3);
    expect(out.match(/```text/g)).toHaveLength(2);
    expect(out).toContain('```text\n| h4 | v |\n| --- | --- |\n| a4 | b4 |\n```');
    expect(out).toContain('| h1 | v |');
    expect(out.indexOf('| h3')).toBeLessThan(out.indexOf('```text'));
  });

  it('leaves text with few tables, and table-like lines inside code, alone', () => {
    const md = `${table(1)}\n\n\`\`\`\n${table(2)}\n${table(3)}\n${table(4)}\n${table(5)}\n\`\`\``;
    expect(limitCardTables(md, 1)).toBe(md);
  });
});
