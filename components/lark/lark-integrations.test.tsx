// @vitest-environment happy-dom
import { act } from 'react';
import { afterEach, describe, expect, test, vi } from 'vitest';
import en from '@/locales/en.json';
import { click, render, scriptFetch, waitUntil, type Rendered } from '@/test/dom';
import { LarkIntegrations } from './lark-integrations';

vi.mock('@/components/providers/workspace-provider', () => ({
  useWorkspace: () => ({
    workspace: { id: 'ws-1', slug: 'acme', name: 'Acme', role: 'admin' },
    user: { id: 'u-1', name: 'Admin', email: 'admin@example.test' },
    role: 'admin',
    isAdmin: true,
    isOwner: false,
    base: '/w/acme',
  }),
}));

const installation = {
  id: 'inst-1',
  agent_id: 'agent-1',
  agent: { name: 'Echo', avatar: '#336699' },
  app_id: 'cli_a1b2c3',
  region: 'feishu',
  console_url: 'https://open.feishu.cn/app/cli_a1b2c3',
  status: 'active',
  installed_at: '2026-01-01T00:00:00.000Z',
  connection: { state: 'connected', last_event_at: null },
  can_manage: true,
  last_delivery_error: null,
};

const drop = (reason: string, chatId: string, eventType = 'im.message.receive_v1', chatName: string | null = null) => ({
  reason,
  chat_id: chatId,
  chat_name: chatName,
  event_type: eventType,
  received_at: '2026-01-01T00:00:00.000Z',
});

let rendered: Rendered | undefined;
let restoreFetch: (() => void) | undefined;
afterEach(async () => {
  await rendered?.unmount();
  restoreFetch?.();
});

describe('recent dropped events', () => {
  test('"Show more" loads the next page from the cursor; reasons this client does not know get a generic label', async () => {
    const fake = scriptFetch((req) => {
      if (req.path === '/api/workspaces/ws-1/lark/installations') return { status: 200, body: { configured: true, install_supported: true, installations: [installation] } };
      if (req.path === '/api/workspaces/ws-1/lark/installations/inst-1/drops') {
        return req.query.get('before') === 'cursor-1'
          ? { status: 200, body: { drops: [drop('not_addressed_in_group', 'oc_third', undefined, 'Release crew')], next_cursor: null } }
          : { status: 200, body: { drops: [drop('unbound_user', 'oc_first'), drop('a_reason_from_a_newer_server', 'oc_second', 'im.something_new_v9')], next_cursor: 'cursor-1' } };
      }
      return { status: 404, body: { error: { code: 'not_found', message: 'no such route' } } };
    });
    restoreFetch = fake.restore;
    rendered = await render(<LarkIntegrations />);
    const { container } = rendered;
    const disclosure = () => [...container.querySelectorAll('details')].find((d) => d.querySelector('summary')?.textContent === en.lark.integrations.drops.summary);
    await waitUntil(() => disclosure() !== undefined, 'the bot row');
    const details = disclosure() as HTMLDetailsElement;
    await act(async () => {
      details.open = true;
      details.dispatchEvent(new Event('toggle'));
    });
    const caption = en.lark.integrations.drops.caption.replace('{name}', 'Echo');
    const table = () => [...container.querySelectorAll('table')].find((t) => t.caption?.textContent === caption);
    const rows = () => [...(table()?.querySelectorAll('tbody tr') ?? [])].map((tr) => tr.textContent ?? '');
    await waitUntil(() => rows().length === 2, 'the first page');
    expect(rows()[0]).toContain(en.lark.integrations.drops.reasons.unbound_user);
    expect(rows()[1]).toContain(en.lark.integrations.drops.reasons.unknown);
    expect(rows()[1]).toContain('im.something_new_v9');
    expect(rows()[1]).not.toContain('lark.integrations');

    const showMore = () => [...container.querySelectorAll('button')].find((b) => b.textContent === en.lark.integrations.drops.showMore);
    await click(showMore());
    await waitUntil(() => rows().length === 3, 'the second page');
    // A chat whose name the bot learned shows it, with its id beside it.
    expect(rows()[2]).toContain('Release crew');
    expect(rows()[2]).toContain('oc_third');
    expect(rows()[2]).toContain(en.lark.integrations.drops.reasons.not_addressed_in_group);
    const pageRequests = fake.requests.filter((r) => r.path.endsWith('/drops'));
    expect(pageRequests.map((r) => r.query.get('before'))).toEqual([null, 'cursor-1']);
    // The last page has no cursor: nothing more to show.
    expect(showMore()).toBeUndefined();
  });
});
