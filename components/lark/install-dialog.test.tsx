// @vitest-environment happy-dom
import { afterEach, describe, expect, test, vi } from 'vitest';
import en from '@/locales/en.json';
import { click, render, scriptFetch, settle, waitUntil, type Rendered, type ScriptedRequest } from '@/test/dom';
import { InstallDialog } from './install-dialog';

vi.mock('@/components/providers/workspace-provider', () => ({
  useWorkspace: () => ({
    workspace: { id: 'ws-1', slug: 'acme', name: 'Acme', role: 'owner' },
    user: { id: 'u-1', name: 'Owner', email: 'owner@example.test' },
    role: 'owner',
    isAdmin: true,
    isOwner: true,
    base: '/w/acme',
  }),
}));

const mounted: Rendered[] = [];
let restoreFetch: (() => void) | undefined;
afterEach(async () => {
  for (const r of mounted.splice(0)) await r.unmount();
  restoreFetch?.();
});

const isBegin = (r: ScriptedRequest) => r.method === 'POST' && r.path === '/api/workspaces/ws-1/lark/install/begin';
const statusSession = (r: ScriptedRequest) => /^\/api\/workspaces\/ws-1\/lark\/install\/([^/]+)\/status$/.exec(r.path)?.[1];

/**
 * A server whose begin opens session `s-<agent id>-<n>`, with a code that expires after `expiresIn`
 * seconds, and whose status route answers `status(sessionId)`.
 */
function server(status: (sessionId: string) => { status: number; body?: unknown }, expiresIn = 600) {
  let opened = 0;
  const fake = scriptFetch(async (req) => {
    if (isBegin(req)) {
      opened += 1;
      // Slow enough that a second mount's effect runs while the first request is still out.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const agentId = (req.body as { agent_id: string }).agent_id;
      return { status: 200, body: { session_id: `s-${agentId}-${opened}`, qr_code_url: `https://accounts.example/qr?user_code=${agentId}-${opened}`, expires_in_seconds: expiresIn, poll_interval_seconds: 1 } };
    }
    const sessionId = statusSession(req);
    if (req.method === 'GET' && sessionId) return status(sessionId);
    return { status: 404, body: { error: { code: 'not_found', message: 'no such route' } } };
  });
  restoreFetch = fake.restore;
  return fake;
}

async function open(agentId: string, opts: { strict?: boolean } = {}) {
  const rendered = await render(<InstallDialog agent={{ id: agentId, name: `Agent ${agentId}` }} onClose={() => {}} onInstalled={() => {}} />, opts);
  mounted.push(rendered);
  return rendered;
}

const fill = (message: string, values: Record<string, string>) => message.replace(/\{(\w+)\}/g, (_, key: string) => values[key] ?? '');

/** The dialog named for the agent. It is portalled out of the rendered tree, to the end of the body. */
function dialogOf(agentId: string): HTMLElement | null {
  const title = fill(en.lark.install.title, { name: `Agent ${agentId}` });
  return (
    [...document.querySelectorAll<HTMLElement>('[role="dialog"]')].find((dialog) => {
      const labelledBy = dialog.getAttribute('aria-labelledby');
      return labelledBy !== null && document.getElementById(labelledBy)?.textContent === title;
    }) ?? null
  );
}

const qrShown = (agentId: string) => dialogOf(agentId)?.querySelector(`[role="img"][aria-label="${fill(en.lark.install.qrLabel, { name: `Agent ${agentId}` })}"]`) != null;
const textOf = (agentId: string) => dialogOf(agentId)?.textContent ?? '';
const button = (agentId: string, name: string) => [...(dialogOf(agentId)?.querySelectorAll('button') ?? [])].find((b) => b.textContent === name);

describe('install dialog', () => {
  test('under StrictMode’s double mount it starts one install session, and "Scan again" exactly one more', async () => {
    const fake = server(() => ({ status: 200, body: { status: 'pending' } }));
    await open('a-strict', { strict: true });
    await waitUntil(() => qrShown('a-strict'), 'the QR code');
    await settle(100);
    expect(fake.requests.filter(isBegin)).toHaveLength(1);
    // The QR on screen is the one session that exists, and it is the one being polled.
    expect(dialogOf('a-strict')?.querySelector('a[href*="user_code="]')?.getAttribute('href')).toContain('user_code=a-strict-1');
    await waitUntil(() => fake.requests.some((r) => statusSession(r) !== undefined), 'a status poll');
    expect(new Set(fake.requests.map(statusSession).filter(Boolean))).toEqual(new Set(['s-a-strict-1']));

    await click(button('a-strict', en.lark.install.scanAgain));
    await waitUntil(() => dialogOf('a-strict')?.querySelector('a[href*="user_code=a-strict-2"]') != null, 'the second QR code');
    await settle(100);
    expect(fake.requests.filter(isBegin)).toHaveLength(2);
  });

  test('polling stops when the status route answers 404, 403 or 401, and goes on through a 503', async () => {
    const answers: Record<string, number> = { 'a-404': 404, 'a-403': 403, 'a-401': 401, 'a-503': 503 };
    const fake = server((sessionId) => {
      const code = answers[sessionId.replace(/^s-(.*)-\d+$/, '$1')];
      return { status: code, body: { error: { code: 'whatever', message: `status ${code}` } } };
    });
    for (const id of Object.keys(answers)) await open(id);
    const polls = (id: string) => fake.requests.filter((r) => statusSession(r)?.startsWith(`s-${id}-`)).length;
    await waitUntil(() => Object.keys(answers).every((id) => polls(id) >= 1), 'a first poll of every session');
    // Three poll intervals (1 s each): a session still being polled is asked again meanwhile.
    await settle(3200);
    expect(polls('a-404')).toBe(1);
    expect(polls('a-403')).toBe(1);
    expect(polls('a-401')).toBe(1);
    expect(polls('a-503')).toBeGreaterThanOrEqual(3);
    expect(textOf('a-404')).toContain(en.lark.install.reasons.session_lost);
    expect(textOf('a-403')).toContain(en.lark.install.reasons.forbidden);
    expect(textOf('a-503')).toContain(en.lark.install.retrying);
  });

  test('counts down the time left to scan; at zero it says the code expired, and "Scan again" brings a fresh code', async () => {
    // The server never reports the expiry: the dialog knows from the time it was given.
    const fake = server(() => ({ status: 200, body: { status: 'pending' } }), 3);
    await open('a-short');
    await waitUntil(() => qrShown('a-short'), 'the QR code');
    const left = (time: string) => fill(en.lark.install.expiresIn, { time });
    expect([left('00:03'), left('00:02')].some((sentence) => textOf('a-short').includes(sentence))).toBe(true);
    await waitUntil(() => textOf('a-short').includes(left('00:01')), 'one second left', 4000);

    await waitUntil(() => textOf('a-short').includes(en.lark.install.reasons.expired), 'the expired notice', 4000);
    expect(qrShown('a-short')).toBe(false);
    expect(dialogOf('a-short')?.querySelector('a[href*="user_code="]')).toBeNull();
    expect(textOf('a-short')).not.toContain(left('00:00'));
    expect(fake.requests.filter(isBegin)).toHaveLength(1);

    await click(button('a-short', en.lark.install.scanAgain));
    await waitUntil(() => qrShown('a-short'), 'a new QR code');
    expect(dialogOf('a-short')?.querySelector('a[href*="user_code="]')?.getAttribute('href')).toContain('user_code=a-short-2');
    expect(fake.requests.filter(isBegin)).toHaveLength(2);
    expect(textOf('a-short')).not.toContain(en.lark.install.reasons.expired);
  });

  test('a ten-minute code reads 10:00 or just under, as minutes and seconds', async () => {
    server(() => ({ status: 200, body: { status: 'pending' } }));
    await open('a-long');
    await waitUntil(() => qrShown('a-long'), 'the QR code');
    expect(textOf('a-long')).toMatch(/The code expires in (10:00|09:59)\./);
    expect(dialogOf('a-long')?.querySelector('[role="status"]')?.textContent).toBe(en.lark.install.waiting);
  });
});
