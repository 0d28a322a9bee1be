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

/** A server whose begin opens session `s-<agent id>-<n>` and whose status route answers `status(sessionId)`. */
function server(status: (sessionId: string) => { status: number; body?: unknown }) {
  let opened = 0;
  const fake = scriptFetch(async (req) => {
    if (isBegin(req)) {
      opened += 1;
      // Slow enough that a second mount's effect runs while the first request is still out.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const agentId = (req.body as { agent_id: string }).agent_id;
      return { status: 200, body: { session_id: `s-${agentId}-${opened}`, qr_code_url: `https://accounts.example/qr?user_code=${agentId}-${opened}`, expires_in_seconds: 600, poll_interval_seconds: 1 } };
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

const qrShown = (r: Rendered) => r.container.querySelector(`[aria-label^="${en.lark.install.qrLabel.split('{')[0]}"]`) !== null;

describe('install dialog', () => {
  test('under StrictMode’s double mount it starts one install session, and "Scan again" exactly one more', async () => {
    const fake = server(() => ({ status: 200, body: { status: 'pending' } }));
    const dialog = await open('a-strict', { strict: true });
    await waitUntil(() => qrShown(dialog), 'the QR code');
    await settle(100);
    expect(fake.requests.filter(isBegin)).toHaveLength(1);
    // The QR on screen is the one session that exists, and it is the one being polled.
    expect(dialog.container.querySelector('a[href*="user_code="]')?.getAttribute('href')).toContain('user_code=a-strict-1');
    await waitUntil(() => fake.requests.some((r) => statusSession(r) !== undefined), 'a status poll');
    expect(new Set(fake.requests.map(statusSession).filter(Boolean))).toEqual(new Set(['s-a-strict-1']));

    await click([...dialog.container.querySelectorAll('button')].find((b) => b.textContent === en.lark.install.scanAgain));
    await waitUntil(() => dialog.container.querySelector('a[href*="user_code=a-strict-2"]') !== null, 'the second QR code');
    await settle(100);
    expect(fake.requests.filter(isBegin)).toHaveLength(2);
  });

  test('polling stops when the status route answers 404, 403 or 401, and goes on through a 503', async () => {
    const answers: Record<string, number> = { 'a-404': 404, 'a-403': 403, 'a-401': 401, 'a-503': 503 };
    const fake = server((sessionId) => {
      const code = answers[sessionId.replace(/^s-(.*)-\d+$/, '$1')];
      return { status: code, body: { error: { code: 'whatever', message: `status ${code}` } } };
    });
    const dialogs: Record<string, Rendered> = {};
    for (const id of Object.keys(answers)) dialogs[id] = await open(id);
    const polls = (id: string) => fake.requests.filter((r) => statusSession(r)?.startsWith(`s-${id}-`)).length;
    await waitUntil(() => Object.keys(answers).every((id) => polls(id) >= 1), 'a first poll of every session');
    // Three poll intervals (1 s each): a session still being polled is asked again meanwhile.
    await settle(3200);
    expect(polls('a-404')).toBe(1);
    expect(polls('a-403')).toBe(1);
    expect(polls('a-401')).toBe(1);
    expect(polls('a-503')).toBeGreaterThanOrEqual(3);
    expect(dialogs['a-404'].container.textContent).toContain(en.lark.install.reasons.session_lost);
    expect(dialogs['a-403'].container.textContent).toContain(en.lark.install.reasons.forbidden);
    expect(dialogs['a-503'].container.textContent).toContain(en.lark.install.retrying);
  });
});
