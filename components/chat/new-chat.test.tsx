// @vitest-environment happy-dom
import { AppRouterContext } from 'next/dist/shared/lib/app-router-context.shared-runtime';
import { act } from 'react';
import { afterEach, describe, expect, test, vi } from 'vitest';
import en from '@/locales/en.json';
import type { Agent } from '@/server/contract/agents';
import { recordingRouter, render, scriptFetch, waitUntil, type Rendered } from '@/test/dom';
import { NewChat } from './new-chat';

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

const agent = (id: string, name: string, overrides: Partial<Agent> = {}): Agent => ({
  id,
  name,
  avatar_color: '#5b5bd6',
  owner: { id: 'u-1', name: 'Ada' },
  runtime: { kind: 'echo' },
  archived_at: null,
  created_at: '2026-01-01T00:00:00.000Z',
  can_edit: true,
  can_configure_runtime: false,
  ...overrides,
});

const first = agent('0b9c3f5e-8f4e-4a53-9b3c-1a2b3c4d5e6f', 'Echo');
const second = agent('6f5e4d3c-2b1a-4c9b-8a7f-0e1d2c3b4a59', 'Quiet', { runtime: null });
const archived = agent('1a1a1a1a-2b2b-4c3c-8d4d-5e5e5e5e5e5e', 'Gone', { archived_at: '2026-01-02T00:00:00.000Z' });

const session = { id: 's-1', agent_id: second.id, title: null, channel: 'web', creator: { id: 'u-1', name: 'Ada' }, created_at: '2026-01-03T00:00:00.000Z', updated_at: '2026-01-03T00:00:00.000Z', lark: null };

let rendered: Rendered | undefined;
let restoreFetch: (() => void) | undefined;
afterEach(async () => {
  await rendered?.unmount();
  restoreFetch?.();
});

async function renderNewChat(reply: (body: unknown) => { status: number; body?: unknown }, initialAgentId?: string) {
  const fake = scriptFetch((req) => {
    if (req.method === 'GET' && req.path === '/api/workspaces/ws-1/agents') return { status: 200, body: { agents: [first, second, archived] } };
    if (req.method === 'POST' && req.path === '/api/workspaces/ws-1/chat/sessions') return reply(req.body);
    return { status: 404, body: { error: { code: 'not_found', message: 'no such route' } } };
  });
  restoreFetch = fake.restore;
  const { router, pushed } = recordingRouter();
  rendered = await render(
    <AppRouterContext value={router}>
      <NewChat initialAgentId={initialAgentId} />
    </AppRouterContext>,
  );
  const container = rendered.container;
  await waitUntil(() => container.querySelector('select') !== null, 'the agent picker');
  return { container, requests: fake.requests, pushed };
}

const submit = async (container: HTMLElement) => act(async () => container.querySelector('form')!.requestSubmit());

describe('starting a conversation', () => {
  test('offers the active agents in a labelled native select, preselects the one asked for, and leaves a blank title out', async () => {
    const { container, requests, pushed } = await renderNewChat(() => ({ status: 201, body: { session } }), second.id);
    const select = container.querySelector('select')!;
    const label = container.querySelector(`label[for="${select.id}"]`);
    expect(label?.textContent).toBe(t.agent);
    expect([...select.options].map((o) => o.textContent)).toEqual(['Echo', t.agentOptionOffline.replace('{name}', 'Quiet')]);
    expect(select.value).toBe(second.id);
    // The offline agent's hint describes the picker.
    expect(container.textContent).toContain(t.agentOfflineHint);
    await submit(container);
    await waitUntil(() => pushed.length > 0, 'the redirect');
    expect(requests.filter((r) => r.method === 'POST').map((r) => r.body)).toEqual([{ agent_id: second.id }]);
    expect(pushed).toEqual(['/w/acme/chat/s-1']);
  });

  test("shows the server's field message under its field, with no summary above the form", async () => {
    const { container } = await renderNewChat(() => ({
      status: 400,
      body: { error: { code: 'validation', message: 'Invalid input', fields: { title: 'Too long for the server' } } },
    }));
    const title = container.querySelector<HTMLInputElement>('input:not([type])')!;
    await act(async () => {
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(title, 'Plans');
      title.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await submit(container);
    await waitUntil(() => container.textContent?.includes('Too long for the server') ?? false, 'the field message');
    expect(title.getAttribute('aria-invalid')).toBe('true');
    expect(container.querySelector('[role="alert"]')).toBeNull();
  });
});
