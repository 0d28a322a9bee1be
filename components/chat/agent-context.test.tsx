// @vitest-environment happy-dom
import { afterEach, describe, expect, test } from 'vitest';
import en from '@/locales/en.json';
import type { AgentContext, AttachmentView } from '@/server/contract/attachments';
import { click, render, type Rendered } from '@/test/dom';
import { AgentContextBlock } from './agent-context';

const t = en.chat.context;

const recent = Array.from({ length: 8 }, (_, i) => ({ sender: i % 2 ? 'Ravi' : 'Mei', text: `line ${i + 1}`, sent_at: `2026-03-01T08:5${i}:00.000Z` }));
const context: AgentContext = {
  quoted: { sender: 'Mei', text: 'The Q3 numbers are in the sheet', sent_at: '2026-03-01T09:00:00.000Z' },
  forwarded: [],
  recent,
  recent_scope: 'thread',
  unavailable: ['forwarded'],
};
const quotedSheet: AttachmentView = {
  id: '00000000-0000-4000-8000-000000000001',
  kind: 'file',
  source: 'quoted',
  file_name: 'q3.xlsx',
  content_type: 'application/zip',
  size_bytes: 20_480,
  state: 'stored',
  failure: null,
  url: '/api/workspaces/ws-1/attachments/00000000-0000-4000-8000-000000000001',
};

let rendered: Rendered | undefined;
afterEach(async () => {
  await rendered?.unmount();
  rendered = undefined;
});

describe('the context given to the agent', () => {
  test('is folded by default behind a summary, and unfolds to the quoted message, its file, the recent messages and what could not be fetched', async () => {
    rendered = await render(<AgentContextBlock context={context} attachments={[quotedSheet]} />);
    const { container } = rendered;
    const block = container.querySelector('[data-testid="agent-context"]')!;
    const toggle = block.querySelector('button')!;
    expect(toggle.textContent).toBe('Context given to the agent: quoted message, 8 recent messages');
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(block.textContent).not.toContain('The Q3 numbers');
    expect(block.querySelector('[data-testid="attachment-file"]')).toBeNull();

    await click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    const panel = document.getElementById(toggle.getAttribute('aria-controls')!)!;
    expect(block.contains(panel)).toBe(true);
    const headings = [...panel.querySelectorAll('h3')].map((h) => h.textContent);
    expect(headings).toEqual([t.quotedHeading, t.recentHeadingThread]);
    const quoted = panel.querySelector('section')!;
    expect(quoted.textContent).toContain('Mei');
    expect(quoted.textContent).toContain('The Q3 numbers are in the sheet');
    expect(quoted.querySelector('time')?.getAttribute('datetime')).toBe('2026-03-01T09:00:00.000Z');
    expect(quoted.querySelector('[data-testid="attachment-file"]')?.textContent).toContain('q3.xlsx');
    const recentItems = [...panel.querySelectorAll('section')[1].querySelectorAll('li')];
    expect(recentItems.map((li) => li.querySelector('span')?.textContent)).toEqual(recent.map((m) => m.sender));
    expect(recentItems[7].textContent).toContain('line 8');
    expect(panel.querySelector('[data-testid="agent-context-unavailable"]')?.textContent).toBe(t.unavailable.forwarded);

    await click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
  });

  test('forwarded messages are counted and listed; nothing fetched at all still says so', async () => {
    const forwarded: AgentContext = {
      quoted: null,
      forwarded: [
        { sender: 'Ada', text: 'first', sent_at: null },
        { sender: 'Bo', text: '', sent_at: null },
      ],
      recent: [],
      recent_scope: null,
      unavailable: [],
    };
    rendered = await render(<AgentContextBlock context={forwarded} attachments={[]} />);
    const toggle = rendered.container.querySelector('[data-testid="agent-context"] button')!;
    expect(toggle.textContent).toBe('Context given to the agent: 2 forwarded messages');
    await click(toggle);
    expect(rendered.container.textContent).toContain(t.forwardedHeading);
    expect(rendered.container.textContent).toContain(t.noText);
    await rendered.unmount();

    rendered = await render(<AgentContextBlock context={{ quoted: null, forwarded: [], recent: [], recent_scope: 'chat', unavailable: ['quoted', 'recent'] }} attachments={[]} />);
    const block = rendered.container.querySelector('[data-testid="agent-context"]')!;
    expect(block.querySelector('button')!.textContent).toBe(t.summaryUnavailable);
    await click(block.querySelector('button'));
    expect([...block.querySelectorAll('[data-testid="agent-context-unavailable"] li')].map((li) => li.textContent)).toEqual([t.unavailable.quoted, t.unavailable.recent]);
  });

  test('no context and no quoted or forwarded files: no block', async () => {
    rendered = await render(<AgentContextBlock context={null} attachments={[]} />);
    expect(rendered.container.querySelector('[data-testid="agent-context"]')).toBeNull();
    await rendered.unmount();
    rendered = await render(<AgentContextBlock context={{ quoted: null, forwarded: [], recent: [], recent_scope: null, unavailable: [] }} attachments={[]} />);
    expect(rendered.container.querySelector('[data-testid="agent-context"]')).toBeNull();
  });
});
