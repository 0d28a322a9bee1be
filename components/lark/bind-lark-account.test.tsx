// @vitest-environment happy-dom
import { afterEach, describe, expect, test } from 'vitest';
import en from '@/locales/en.json';
import { click, render, scriptFetch, settle, waitUntil, type Rendered } from '@/test/dom';
import { BindLarkAccount } from './bind-lark-account';

const mounted: Rendered[] = [];
let restoreFetch: (() => void) | undefined;
afterEach(async () => {
  for (const r of mounted.splice(0)) await r.unmount();
  restoreFetch?.();
});

const previewBody = (name: string | null) => ({
  lark_user: { name },
  agent: { id: 'a-1', name: 'Helper' },
  workspace: { id: 'ws-1', name: 'Acme', slug: 'acme' },
  account: { name: 'Victim', email: 'victim@example.test' },
  expires_at: new Date(Date.now() + 600_000).toISOString(),
});

function server(name: string | null = 'Mallory Attacker') {
  const fake = scriptFetch((req) => {
    if (req.method === 'GET' && req.path === '/api/lark/binding/preview') return { status: 200, body: previewBody(name) };
    if (req.method === 'POST' && req.path === '/api/lark/binding/redeem') {
      return { status: 200, body: { workspace: { id: 'ws-1', name: 'Acme', slug: 'acme' }, agent: { id: 'a-1', name: 'Helper' } } };
    }
    return { status: 404, body: { error: { code: 'not_found', message: 'no such route' } } };
  });
  restoreFetch = fake.restore;
  return fake;
}

async function open() {
  const rendered = await render(<BindLarkAccount token="tok-123" email="victim@example.test" path="/lark/bind?token=tok-123" />, { strict: true });
  mounted.push(rendered);
  return rendered;
}

const confirmButton = (r: Rendered) => [...r.container.querySelectorAll('button')].find((b) => b.textContent === en.lark.bind.confirm);

describe('binding page', () => {
  test('opening the link binds nothing: it names the Lark user, bot, workspace and account, and waits for the confirm click', async () => {
    const fake = server();
    const page = await open();
    // Mounted (twice, under StrictMode) and given time: no request may have redeemed the link.
    await settle(300);
    expect(fake.requests.filter((r) => r.method === 'POST')).toEqual([]);
    await waitUntil(() => confirmButton(page) !== undefined, 'the confirm button');
    const text = page.container.textContent ?? '';
    for (const shown of ['Mallory Attacker', 'Helper', 'Acme', 'victim@example.test']) expect(text).toContain(shown);

    await click(confirmButton(page));
    await waitUntil(() => (page.container.textContent ?? '').includes(en.lark.bind.successTitle), 'the success message');
    expect(fake.requests.filter((r) => r.method === 'POST').map((r) => [r.path, r.body])).toEqual([['/api/lark/binding/redeem', { token: 'tok-123' }]]);
  });

  test('when Lark did not tell the name, the page says "a Lark account"', async () => {
    server(null);
    const page = await open();
    await waitUntil(() => confirmButton(page) !== undefined, 'the confirm button');
    expect(page.container.querySelector('[data-field="lark-user"]')?.textContent).toBe(en.lark.bind.unknownLarkUser);
  });
});
