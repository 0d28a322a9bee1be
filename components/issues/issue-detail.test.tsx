// @vitest-environment happy-dom
import { act } from 'react';
import { afterEach, expect, test, vi } from 'vitest';
import en from '@/locales/en.json';
import { render, scriptFetch, waitUntil, type Rendered } from '@/test/dom';
import { IssueDetail } from './issue-detail';

vi.mock('@/components/providers/workspace-provider', () => ({
  useWorkspace: () => ({
    workspace: { id: 'ws-1', slug: 'acme', name: 'Acme', role: 'member', issue_prefix: 'ACM' },
    user: { id: 'u-1', name: 'Mia', email: 'mia@example.test' },
    role: 'member',
    isAdmin: false,
    isOwner: false,
    base: '/w/acme',
  }),
}));

const issue = {
  id: 'issue-1',
  identifier: 'ACM-7',
  number: 7,
  title: 'Export is broken',
  description: 'The CSV is empty',
  status: 'todo',
  origin_type: 'lark_chat',
  origin: { lark_chat: { chat_id: 'oc_chat1', region: 'lark', url: 'https://applink.larksuite.com/client/chat/open?openChatId=oc_chat1' }, chat_session_id: 'session-1' },
  creator: { id: 'u-1', name: 'Mia' },
  assignee: null,
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
};
const members = [{ user_id: 'u-1', email: 'mia@example.test', name: 'Mia', role: 'member', joined_at: '2026-01-01T00:00:00.000Z' }];
const agents = [{ id: '0b7f0a4e-2b55-4a0e-9d8e-0c6b1d2f3a4b', name: 'Triage', avatar_color: '#336699', owner: { id: 'u-1', name: 'Mia' }, runtime: null, archived_at: null, created_at: '2026-01-01T00:00:00.000Z', can_edit: false, can_configure_runtime: false }];

let rendered: Rendered | undefined;
let restoreFetch: (() => void) | undefined;
afterEach(async () => {
  await rendered?.unmount();
  restoreFetch?.();
});

function serve(patchReply: (body: Record<string, unknown>) => { status: number; body: unknown }) {
  let current = { ...issue };
  return scriptFetch((req) => {
    if (req.path === '/api/workspaces/ws-1/issues/issue-1' && req.method === 'GET') return { status: 200, body: { issue: current } };
    if (req.path === '/api/workspaces/ws-1/issues/issue-1' && req.method === 'PATCH') {
      const reply = patchReply(req.body as Record<string, unknown>);
      if (reply.status === 200) current = (reply.body as { issue: typeof issue }).issue;
      return reply;
    }
    if (req.path === '/api/workspaces/ws-1/members') return { status: 200, body: { members } };
    if (req.path === '/api/workspaces/ws-1/agents') return { status: 200, body: { agents } };
    return { status: 404, body: { error: { code: 'not_found', message: 'no such route' } } };
  });
}

const select = (container: HTMLElement, label: string) => {
  const id = [...container.querySelectorAll('label')].find((l) => l.textContent === label)?.getAttribute('for');
  return container.querySelector<HTMLSelectElement>(`select[id="${id}"]`);
};

async function choose(el: HTMLSelectElement, value: string) {
  await act(async () => {
    el.value = value;
    el.dispatchEvent(new Event('change', { bubbles: true }));
  });
}

test('links back to the Lark chat of its brand and to the web conversation', async () => {
  const fake = serve(() => ({ status: 500, body: {} }));
  restoreFetch = fake.restore;
  rendered = await render(<IssueDetail issueId="issue-1" />);
  const { container } = rendered;
  await waitUntil(() => container.querySelector('h1')?.textContent === 'Export is broken', 'the issue');
  const links = [...container.querySelectorAll('a')];
  const lark = links.find((a) => a.textContent === en.issues.links.openLark);
  expect(lark?.getAttribute('href')).toBe('https://applink.larksuite.com/client/chat/open?openChatId=oc_chat1');
  expect(links.find((a) => a.textContent === en.issues.links.openWeb)?.getAttribute('href')).toBe('/w/acme/chat/session-1');
});

test('status and assignee selects send the change; a refused assignee is explained and the issue stays as it was', async () => {
  const fake = serve((body) =>
    body.assignee
      ? { status: 409, body: { error: { code: 'agent_archived', message: 'This agent is archived; pick another assignee' } } }
      : { status: 200, body: { issue: { ...issue, ...body, updated_at: '2026-01-02T00:00:00.000Z' } } },
  );
  restoreFetch = fake.restore;
  rendered = await render(<IssueDetail issueId="issue-1" />);
  const { container } = rendered;
  await waitUntil(() => select(container, en.issues.fields.status) !== null, 'the status select');
  await choose(select(container, en.issues.fields.status)!, 'done');
  await waitUntil(() => fake.requests.some((r) => r.method === 'PATCH'), 'the PATCH');
  expect(fake.requests.find((r) => r.method === 'PATCH')?.body).toEqual({ status: 'done' });
  await waitUntil(() => select(container, en.issues.fields.status)?.value === 'done' && !select(container, en.issues.fields.status)?.disabled, 'the saved status');

  const assignee = select(container, en.issues.fields.assignee)!;
  await waitUntil(() => assignee.querySelectorAll('option').length === 3, 'members and agents');
  await choose(assignee, `agent:${agents[0].id}`);
  await waitUntil(() => container.querySelector('[role="alert"]') !== null, 'the error');
  expect(container.querySelector('[role="alert"]')?.textContent).toBe(en.errors.agent_archived);
  expect(fake.requests.filter((r) => r.method === 'PATCH').at(-1)?.body).toEqual({ assignee: { type: 'agent', id: agents[0].id } });
  expect(select(container, en.issues.fields.assignee)?.value).toBe('');
});
