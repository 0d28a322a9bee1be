// @vitest-environment happy-dom
import { PathParamsContext } from 'next/dist/shared/lib/hooks-client-context.shared-runtime';
import { afterEach, describe, expect, test, vi } from 'vitest';
import en from '@/locales/en.json';
import { render, scriptFetch, waitUntil, type Rendered } from '@/test/dom';
import { ChatLayout } from './chat-layout';

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

const t = en.chat;
const longTitle = 'Quarterly planning for the platform migration, the release train and everything that depends on it';

const agents = [
  { id: 'a-1', name: 'Echo', avatar_color: '#5b5bd6', owner: { id: 'u-1', name: 'Ada' }, runtime: { kind: 'echo' }, archived_at: null, created_at: '2026-01-01T00:00:00.000Z', can_edit: true, can_configure_runtime: false },
];
const person = { id: 'u-1', name: 'Ada' };
const sessions = [
  { id: 's-1', agent_id: 'a-1', title: longTitle, channel: 'web', creator: person, created_at: '2026-01-02T00:00:00.000Z', updated_at: '2026-01-02T09:30:00.000Z', lark: null },
  {
    id: 's-2',
    agent_id: 'a-1',
    title: null,
    channel: 'lark',
    creator: person,
    created_at: '2026-01-03T00:00:00.000Z',
    updated_at: '2026-01-03T10:00:00.000Z',
    lark: { chat_type: 'p2p', topic: false, closed: false },
  },
  {
    id: 's-3',
    agent_id: 'a-1',
    title: 'Team · Release checklist',
    channel: 'lark',
    creator: person,
    created_at: '2026-01-03T00:00:00.000Z',
    updated_at: '2026-01-03T09:00:00.000Z',
    lark: { chat_type: 'group', topic: true, closed: true },
  },
];

let rendered: Rendered | undefined;
let restoreFetch: (() => void) | undefined;
afterEach(async () => {
  await rendered?.unmount();
  restoreFetch?.();
});

async function renderLayout(sessionId?: string) {
  const fake = scriptFetch((req) => {
    if (req.path === '/api/workspaces/ws-1/agents') return { status: 200, body: { agents } };
    if (req.path === '/api/workspaces/ws-1/chat/sessions') return { status: 200, body: { sessions } };
    return { status: 404, body: { error: { code: 'not_found', message: 'no such route' } } };
  });
  restoreFetch = fake.restore;
  rendered = await render(
    <PathParamsContext value={sessionId ? { slug: 'acme', sessionId } : { slug: 'acme' }}>
      <ChatLayout>
        <p id="pane">pane</p>
      </ChatLayout>
    </PathParamsContext>,
  );
  const container = rendered.container;
  const links = () => [...container.querySelectorAll<HTMLAnchorElement>(`nav[aria-label="${t.sessionsLabel}"] a`)];
  await waitUntil(() => links().length === sessions.length && (links()[1]?.textContent ?? '').includes('Echo'), 'the conversation list');
  return { container, links };
}

describe('the conversation list', () => {
  test('keeps title, date and badge apart: the title alone is cut short, with the whole of it in the tooltip', async () => {
    const { links } = await renderLayout();
    const [titled, lark] = links();
    expect(titled!.title).toBe(longTitle);
    const titleText = [...titled!.querySelectorAll('span')].find((s) => s.textContent === longTitle)!;
    expect(titleText.className).toContain('truncate');
    const time = titled!.querySelector('time')!;
    expect(time.getAttribute('datetime')).toBe(sessions[0]!.updated_at);
    // The date sits beside the title, not inside the part that gets cut.
    expect(titleText.contains(time)).toBe(false);
    expect(time.className).toContain('shrink-0');

    // An untitled conversation is named after its agent; Lark ones carry the channel badge on their own line.
    expect(lark!.title).toBe('Echo');
    expect(lark!.textContent).toContain(t.channelLark);
    const badge = [...lark!.querySelectorAll('[data-slot="badge"]')].find((b) => b.textContent === t.channelLark)!;
    expect(badge.parentElement?.contains(lark!.querySelector('time'))).toBe(false);
  });

  test('comes before the new-chat form in the page, and marks the open conversation', async () => {
    const { container, links } = await renderLayout('s-2');
    const list = container.querySelector('section')!;
    const pane = container.querySelector('#pane')!;
    expect(list.compareDocumentPosition(pane) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(links().map((a) => a.getAttribute('aria-current'))).toEqual([null, 'page', null]);
  });

  test('a Lark topic is a conversation of its own with a topic badge, and one that ended in Lark says so', async () => {
    const { links } = await renderLayout();
    const [, dm, topic] = links();
    const badges = (a: HTMLAnchorElement) => [...a.querySelectorAll('[data-slot="badge"]')].map((b) => b.textContent);
    expect(badges(dm!)).toEqual([t.channelLark]);
    expect(topic!.title).toBe('Team · Release checklist');
    expect(badges(topic!)).toEqual([t.larkEndedBadge, t.larkTopicBadge]);
  });
});
