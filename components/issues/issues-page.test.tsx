// @vitest-environment happy-dom
import { act, useSyncExternalStore } from 'react';
import { afterEach, expect, test, vi } from 'vitest';
import en from '@/locales/en.json';
import { render, scriptFetch, waitUntil, type Rendered } from '@/test/dom';
import { IssuesPage } from './issues-page';

// The App Router applies router.replace later, in a transition; this URL does the same: a replace
// is only recorded until the test lets it land, or another navigation happens.
const url = {
  query: '',
  replaced: [] as string[],
  listeners: new Set<() => void>(),
  land(query: string) {
    url.query = query;
    for (const listener of url.listeners) listener();
  },
};

vi.mock('next/navigation', () => ({
  usePathname: () => '/w/acme/issues',
  useRouter: () => ({ replace: (href: string) => void url.replaced.push(href), push: () => {}, back: () => {}, forward: () => {}, refresh: () => {}, prefetch: () => {} }),
  useSearchParams: () => {
    const query = useSyncExternalStore(
      (listener) => {
        url.listeners.add(listener);
        return () => url.listeners.delete(listener);
      },
      () => url.query,
    );
    return new URLSearchParams(query);
  },
}));

vi.mock('@/components/providers/workspace-provider', () => ({
  useWorkspace: () => ({
    workspace: { id: 'ws-1', slug: 'acme', name: 'Acme', role: 'owner', issue_prefix: 'ACM' },
    user: { id: 'u-1', name: 'Mia', email: 'mia@example.test' },
    role: 'owner',
    isAdmin: true,
    isOwner: true,
    base: '/w/acme',
  }),
}));

const agentId = '0b7f0a4e-2b55-4a0e-9d8e-0c6b1d2f3a4b';
const members = [{ user_id: 'u-1', email: 'mia@example.test', name: 'Mia', role: 'owner', joined_at: '2026-01-01T00:00:00.000Z' }];
const agents = [{ id: agentId, name: 'Triage', avatar_color: '#336699', owner: { id: 'u-1', name: 'Mia' }, runtime: null, archived_at: null, created_at: '2026-01-01T00:00:00.000Z', can_edit: true, can_configure_runtime: true }];

let rendered: Rendered | undefined;
let restoreFetch: (() => void) | undefined;
afterEach(async () => {
  await rendered?.unmount();
  restoreFetch?.();
  url.query = '';
  url.replaced = [];
});

function serve() {
  return scriptFetch((req) => {
    if (req.path === '/api/workspaces/ws-1/issues') return { status: 200, body: { issues: [] } };
    if (req.path === '/api/workspaces/ws-1/members') return { status: 200, body: { members } };
    if (req.path === '/api/workspaces/ws-1/agents') return { status: 200, body: { agents } };
    return { status: 404, body: { error: { code: 'not_found', message: 'no such route' } } };
  });
}

const filter = (container: HTMLElement, label: string) => {
  const bar = container.querySelector(`[role="search"]`);
  const id = [...(bar?.querySelectorAll('label') ?? [])].find((l) => l.textContent === label)?.getAttribute('for');
  const el = bar?.querySelector<HTMLSelectElement>(`select[id="${id}"]`);
  if (!el) throw new Error(`no ${label} filter`);
  return el;
};

async function choose(el: HTMLSelectElement, value: string) {
  await act(async () => {
    el.value = value;
    el.dispatchEvent(new Event('change', { bubbles: true }));
  });
}

test('a second filter chosen before the first reached the URL keeps the first', async () => {
  url.query = 'status=todo';
  const fake = serve();
  restoreFetch = fake.restore;
  rendered = await render(<IssuesPage />);
  const { container } = rendered;
  await waitUntil(() => filter(container, en.issues.filters.assignee).querySelector(`option[value="agent:${agentId}"]`) !== null, 'the agent option');
  expect(filter(container, en.issues.filters.status).value).toBe('todo');

  await choose(filter(container, en.issues.filters.status), '');
  await choose(filter(container, en.issues.filters.assignee), `agent:${agentId}`);
  expect(url.replaced).toEqual(['/w/acme/issues', `/w/acme/issues?assignee=agent%3A${agentId}`]);
  expect(filter(container, en.issues.filters.status).value).toBe('');

  // The first replace lands late; the page does not fall back to it.
  await act(async () => url.land(''));
  expect(filter(container, en.issues.filters.assignee).value).toBe(`agent:${agentId}`);
  await act(async () => url.land(`assignee=agent%3A${agentId}`));
  await waitUntil(() => fake.requests.some((r) => r.path === '/api/workspaces/ws-1/issues' && r.query.get('assignee') === `agent:${agentId}` && !r.query.has('status')), 'the list asked for by the agent, any status');
  expect(filter(container, en.issues.filters.assignee).value).toBe(`agent:${agentId}`);
});

test('a navigation to another filtered URL is followed', async () => {
  const fake = serve();
  restoreFetch = fake.restore;
  rendered = await render(<IssuesPage />);
  const { container } = rendered;
  await act(async () => url.land('status=done&assignee=none'));
  expect(filter(container, en.issues.filters.status).value).toBe('done');
  expect(filter(container, en.issues.filters.assignee).value).toBe('none');
  await waitUntil(() => fake.requests.some((r) => r.path === '/api/workspaces/ws-1/issues' && r.query.get('status') === 'done' && r.query.get('assignee') === 'none'), 'the list for the new URL');
});
