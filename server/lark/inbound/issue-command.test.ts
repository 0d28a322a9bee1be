import { describe, expect, test } from 'vitest';
import { parseIssueCommand } from './issue-command';

describe('parseIssueCommand', () => {
  test.each([
    ['/issue Fix login', { kind: 'create', title: 'Fix login', description: '' }],
    ['  /issue   Fix login  ', { kind: 'create', title: 'Fix login', description: '' }],
    ['/issue Fix login\nSteps:\n1. open\n2. click', { kind: 'create', title: 'Fix login', description: 'Steps:\n1. open\n2. click' }],
    ['/ISSUE Upper case', { kind: 'create', title: 'Upper case', description: '' }],
    ['/issue\nTitle on the next line\nbody', { kind: 'create', title: 'Title on the next line', description: 'body' }],
    ['/issue', { kind: 'bare' }],
    ['/issue   ', { kind: 'bare' }],
  ])('%j', (text, expected) => {
    expect(parseIssueCommand(text)).toEqual(expected);
  });

  test.each(['/issues list', 'please /issue this', 'issue: x', '/issuefoo', ''])('not a command: %j', (text) => {
    expect(parseIssueCommand(text)).toBeNull();
  });

  test('a very long title is cut to the column limit, never rejected', () => {
    const parsed = parseIssueCommand(`/issue ${'x'.repeat(400)}`);
    expect(parsed).toMatchObject({ kind: 'create' });
    expect((parsed as { title: string }).title).toHaveLength(300);
  });
});
