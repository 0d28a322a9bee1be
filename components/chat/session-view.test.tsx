// @vitest-environment happy-dom
import { afterEach, describe, expect, test, vi } from 'vitest';
import en from '@/locales/en.json';
import type { AttachmentView } from '@/server/contract/attachments';
import { click, render, scriptFetch, waitUntil, type Rendered } from '@/test/dom';
import { SessionView } from './session-view';

vi.mock('@/components/providers/workspace-provider', () => ({
  useWorkspace: () => ({
    workspace: { id: 'ws-1', slug: 'acme', name: 'Acme', role: 'member' },
    user: { id: 'u-1', name: 'Ada', email: 'ada@example.test' },
    role: 'member',
    isAdmin: false,
    isOwner: false,
    base: '/w/acme',
  }),
}));

const agents = [
  { id: 'a-1', name: 'Echo', avatar_color: '#5b5bd6', owner: { id: 'u-1', name: 'Ada' }, runtime: { kind: 'echo' }, archived_at: null, created_at: '2026-01-01T00:00:00.000Z', can_edit: true, can_configure_runtime: false },
];
const person = { id: 'u-1', name: 'Ada' };
const session = { id: 's-1', agent_id: 'a-1', title: 'Numbers', channel: 'lark', creator: person, created_at: '2026-03-01T00:00:00.000Z', updated_at: '2026-03-01T00:00:00.000Z', lark: { chat_type: 'group', topic: false, closed: false } };

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const file = (n: number, over: Partial<AttachmentView>): AttachmentView => ({
  id: uuid(n),
  kind: 'image',
  source: 'message',
  file_name: null,
  content_type: 'image/png',
  size_bytes: 1000,
  state: 'stored',
  failure: null,
  url: `/api/workspaces/ws-1/attachments/${uuid(n)}`,
  ...over,
});
const message = (id: string, over: Record<string, unknown>) => ({ id, role: 'user', content: '', recalled: false, end_reason: null, author: person, created_at: '2026-03-01T10:00:00.000Z', ...over });

const messages = [
  message('m-1', {
    content: 'What does this show?',
    attachments: [file(1, { file_name: 'photo.png' }), file(2, { source: 'quoted', kind: 'file', file_name: 'q3.xlsx', content_type: 'application/zip' })],
    context: { quoted: { sender: 'Mei', text: 'Numbers attached', sent_at: null }, forwarded: [], recent: [], recent_scope: null, unavailable: [] },
  }),
  message('m-2', {
    role: 'assistant',
    author: null,
    content: `Here is the chart:\n\n![Revenue](attachment:${uuid(3)})\n\nRevenue grew.`,
    attachments: [file(3, { source: 'agent', file_name: 'chart.png' })],
    context: null,
  }),
  message('m-3', { content: '', attachments: [file(4, { file_name: 'only-a-picture.png' })] }),
  message('m-4', { content: 'Oops', recalled: true, attachments: [file(5, { file_name: 'recalled.png' })] }),
];

let rendered: Rendered | undefined;
let restoreFetch: (() => void) | undefined;
afterEach(async () => {
  await rendered?.unmount();
  restoreFetch?.();
});

describe('a conversation with attachments', () => {
  test("shows each message's own files under it, the quoted ones only in its context, and no image markdown the image already shows", async () => {
    const fake = scriptFetch((req) => {
      if (req.path === '/api/workspaces/ws-1/agents') return { status: 200, body: { agents } };
      if (req.path === '/api/workspaces/ws-1/chat/sessions/s-1') return { status: 200, body: { session } };
      if (req.path === '/api/workspaces/ws-1/chat/sessions/s-1/messages') return { status: 200, body: { messages, tasks: [] } };
      return { status: 404, body: { error: { code: 'not_found', message: 'no such route' } } };
    });
    restoreFetch = fake.restore;
    rendered = await render(<SessionView sessionId="s-1" />);
    const { container } = rendered;
    const items = () => [...container.querySelectorAll<HTMLElement>(`[aria-label="${en.chat.messagesLabel}"] ol > li`)];
    await waitUntil(() => items().length === 4, 'the messages');
    const [question, answer, pictureOnly, recalled] = items();

    const thumbs = (el: HTMLElement) => [...el.querySelectorAll('[data-testid="attachment-thumbnail"] img')].map((img) => img.getAttribute('alt'));
    expect(thumbs(question)).toEqual(['photo.png']);
    const block = question.querySelector('[data-testid="agent-context"]')!;
    expect(block.textContent).toBe('Context given to the agent: quoted message');
    // The quoted file is part of the context: not listed as the question's own, shown once unfolded.
    expect(question.querySelector('[data-testid="attachment-file"]')).toBeNull();
    await click(block.querySelector('button'));
    await waitUntil(() => block.querySelector('[data-testid="attachment-file"]') !== null, 'the quoted file in the context');

    expect(thumbs(answer)).toEqual(['chart.png']);
    expect(answer.textContent).toContain('Here is the chart:\n\nRevenue grew.');
    expect(answer.textContent).not.toContain('attachment:');
    expect(answer.querySelector('[data-testid="agent-context"]')).toBeNull();

    // Only a picture: no empty bubble above it.
    expect(thumbs(pictureOnly)).toEqual(['only-a-picture.png']);
    expect(pictureOnly.querySelector('.rounded-2xl')).toBeNull();

    expect(recalled.textContent).toContain(en.chat.recalled);
    expect(thumbs(recalled)).toEqual([]);
  });
});
