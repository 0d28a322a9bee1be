// @vitest-environment happy-dom
import { act } from 'react';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import en from '@/locales/en.json';
import { click, render, scriptFetch, waitUntil, type Rendered, type ScriptedRequest } from '@/test/dom';
import { LarkLanguageSetting } from './lark-language';
import { BotLarkAccounts, MyLarkAccounts } from './linked-accounts';

const fill = (s: string, values: Record<string, string>) => s.replace(/\{(\w+)\}/g, (_, k: string) => values[k] ?? '');

const viewer = vi.hoisted(() => ({ role: 'admin' as 'owner' | 'admin' | 'member' }));
vi.mock('@/components/providers/workspace-provider', () => ({
  useWorkspace: () => ({
    workspace: { id: 'ws-1', slug: 'acme', name: 'Acme', issue_prefix: 'AC', role: viewer.role },
    user: { id: 'u-amy', name: 'Amy', email: 'amy@example.test' },
    role: viewer.role,
    isAdmin: viewer.role !== 'member',
    isOwner: viewer.role === 'owner',
    base: '/w/acme',
  }),
}));

const at = '2026-01-01T00:00:00.000Z';
const account = (id: string, larkName: string | null, bot = 'Echo', member = { user_id: 'u-amy', name: 'Amy', email: 'amy@example.test' }) => ({
  id,
  installation_id: 'inst-1',
  bot: { agent_id: 'agent-1', name: bot, avatar: '#336699', region: 'feishu', status: 'active' },
  lark_user: { name: larkName, open_id_hint: 'ou_12345…cdef' },
  member,
  bound_at: at,
});
const installation = {
  id: 'inst-1',
  agent_id: 'agent-1',
  agent: { name: 'Echo', avatar: '#336699' },
  app_id: 'cli_a1b2c3',
  region: 'feishu' as const,
  console_url: 'https://open.feishu.cn/app/cli_a1b2c3',
  status: 'active' as const,
  installed_at: at,
  connection: { state: 'connected' as const, last_event_at: null },
  can_manage: true,
  last_delivery_error: null,
};

let rendered: Rendered | undefined;
let restoreFetch: (() => void) | undefined;
beforeEach(() => {
  viewer.role = 'admin';
});
afterEach(async () => {
  await rendered?.unmount();
  restoreFetch?.();
});

const notFound = { status: 404, body: { error: { code: 'not_found', message: 'no such route' } } };
const buttonIn = (root: ParentNode, name: string) => [...root.querySelectorAll('button')].find((b) => b.textContent === name || b.getAttribute('aria-label') === name);
const rows = (root: ParentNode) => [...root.querySelectorAll('tbody tr')].map((tr) => tr.textContent ?? '');

describe('your linked Lark accounts', () => {
  test('lists each link with its bot and Lark name (or a shortened id), and unlinks one after a confirmation', async () => {
    let accounts = [account('b-1', 'Amy Wang'), account('b-2', null, 'Second')];
    const fake = scriptFetch((req: ScriptedRequest) => {
      if (req.method === 'GET' && req.path === '/api/workspaces/ws-1/lark/linked-accounts') return { status: 200, body: { accounts } };
      if (req.method === 'DELETE' && req.path === '/api/workspaces/ws-1/lark/linked-accounts/b-2') {
        accounts = accounts.filter((a) => a.id !== 'b-2');
        return { status: 204 };
      }
      return notFound;
    });
    restoreFetch = fake.restore;
    rendered = await render(<MyLarkAccounts />);
    const { container } = rendered;
    await waitUntil(() => rows(container).length === 2, 'the links');
    expect(rows(container)[0]).toContain('Echo');
    expect(rows(container)[0]).toContain('Amy Wang');
    expect(rows(container)[1]).toContain('Second');
    expect(rows(container)[1]).toContain('ou_12345…cdef');

    await click(buttonIn(container, fill(en.settings.profile.unlinkLabel, { bot: 'Second' })));
    const dialog = document.body.querySelector('[role="alertdialog"]')!;
    expect(dialog.textContent).toContain(fill(en.settings.profile.unlinkTitle, { bot: 'Second' }));
    // Nothing is removed before the confirmation.
    expect(fake.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    await click(buttonIn(dialog, en.settings.profile.unlinkConfirm));
    await waitUntil(() => rows(container).length === 1, 'the list without the removed link');
    expect(fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual(['/api/workspaces/ws-1/lark/linked-accounts/b-2']);
    expect(document.body.querySelector('[role="alertdialog"]')).toBeNull();
  });

  test('says so when there are none', async () => {
    restoreFetch = scriptFetch((req) => (req.path === '/api/workspaces/ws-1/lark/linked-accounts' ? { status: 200, body: { accounts: [] } } : notFound)).restore;
    rendered = await render(<MyLarkAccounts />);
    await waitUntil(() => rendered!.container.textContent!.includes(en.settings.profile.larkEmpty), 'the empty state');
  });
});

describe("a bot's linked accounts", () => {
  test('loads when opened and removes a link after a confirmation; a failure is shown in the dialog', async () => {
    const ben = { user_id: 'u-ben', name: 'Ben', email: 'ben@example.test' };
    let accounts = [account('b-1', 'Amy Wang'), account('b-3', 'Ben Li', 'Echo', ben)];
    let failNext = true;
    const fake = scriptFetch((req) => {
      if (req.method === 'GET' && req.path === '/api/workspaces/ws-1/lark/installations/inst-1/linked-accounts') return { status: 200, body: { accounts } };
      if (req.method === 'DELETE' && req.path === '/api/workspaces/ws-1/lark/installations/inst-1/linked-accounts/b-3') {
        if (failNext) {
          failNext = false;
          return { status: 403, body: { error: { code: 'forbidden', message: 'no' } } };
        }
        accounts = accounts.filter((a) => a.id !== 'b-3');
        return { status: 204 };
      }
      return notFound;
    });
    restoreFetch = fake.restore;
    rendered = await render(<BotLarkAccounts installation={installation} />);
    const { container } = rendered;
    expect(fake.requests).toEqual([]);
    const details = container.querySelector('details')!;
    expect(details.querySelector('summary')!.textContent).toBe(en.lark.integrations.linked.summary);
    await act(async () => {
      details.open = true;
      details.dispatchEvent(new Event('toggle'));
    });
    await waitUntil(() => rows(container).length === 2, 'the links');
    expect(rows(container)[1]).toContain('ben@example.test');

    await click(buttonIn(container, fill(en.lark.integrations.linked.removeLabel, { name: 'Ben Li' })));
    const dialog = () => document.body.querySelector('[role="alertdialog"]')!;
    await click(buttonIn(dialog(), en.lark.integrations.linked.removeConfirm));
    await waitUntil(() => dialog()?.textContent?.includes(en.errors.forbidden) ?? false, 'the error');
    expect(rows(container)).toHaveLength(2);
    await click(buttonIn(dialog(), en.lark.integrations.linked.removeConfirm));
    await waitUntil(() => rows(container).length === 1, 'the list without the removed link');
    expect(rows(container)[0]).toContain('Amy Wang');
  });
});

describe('the language the bot speaks', () => {
  const select = (root: ParentNode) => root.querySelector('select') as HTMLSelectElement;

  async function renderSetting() {
    let saved = 'auto';
    const fake = scriptFetch((req) => {
      const workspace = () => ({ id: 'ws-1', name: 'Acme', slug: 'acme', issue_prefix: 'AC', role: viewer.role, lark_locale: saved, created_at: at });
      if (req.path !== '/api/workspaces/ws-1') return notFound;
      if (req.method === 'PATCH') saved = (req.body as { lark_locale: string }).lark_locale;
      return { status: 200, body: { workspace: workspace() } };
    });
    restoreFetch = fake.restore;
    rendered = await render(<LarkLanguageSetting />);
    await waitUntil(() => select(rendered!.container)?.value === 'auto', 'the current setting');
    return { container: rendered.container, requests: fake.requests };
  }

  test('owners and admins choose among automatic and the four languages; the choice is saved', async () => {
    const { container, requests } = await renderSetting();
    const options = [...select(container).options].map((o) => o.textContent);
    expect(options).toEqual([en.lark.language.auto, 'English', '简体中文', '日本語', '한국어']);
    expect(container.textContent).toContain(en.lark.language.hint);
    expect(select(container).disabled).toBe(false);
    await act(async () => {
      Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value')!.set!.call(select(container), 'ja');
      select(container).dispatchEvent(new Event('change', { bubbles: true }));
    });
    await waitUntil(() => requests.some((r) => r.method === 'PATCH'), 'the save');
    expect(requests.find((r) => r.method === 'PATCH')!.body).toEqual({ lark_locale: 'ja' });
    await waitUntil(() => select(container).value === 'ja' && !select(container).disabled, 'the saved value');
  });

  test('members see the setting but cannot change it', async () => {
    viewer.role = 'member';
    const { container } = await renderSetting();
    expect(select(container).disabled).toBe(true);
    expect(container.textContent).toContain(en.lark.language.readOnly);
  });
});
