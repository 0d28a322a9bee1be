// @vitest-environment happy-dom
import { act } from 'react';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import en from '@/locales/en.json';
import { click, render, scriptFetch, settle, waitUntil, type Rendered, type ScriptedRequest } from '@/test/dom';
import { MembersSettings } from './members-settings';

const t = en.settings.members;
const fill = (s: string, values: Record<string, string>) => s.replace(/\{(\w+)\}/g, (_, k: string) => values[k] ?? '');

const viewer = vi.hoisted(() => ({ role: 'owner' as 'owner' | 'admin' | 'member' }));
vi.mock('@/components/providers/workspace-provider', () => ({
  useWorkspace: () => ({
    workspace: { id: 'ws-1', slug: 'acme', name: 'Acme', issue_prefix: 'AC', role: viewer.role },
    user: { id: 'u-owner', name: 'Olivia Owner', email: 'olivia@example.test' },
    role: viewer.role,
    isAdmin: viewer.role !== 'member',
    isOwner: viewer.role === 'owner',
    base: '/w/acme',
  }),
}));

const at = '2026-01-01T00:00:00.000Z';
const members = [
  { user_id: 'u-owner', email: 'olivia@example.test', name: 'Olivia Owner', role: 'owner', joined_at: at },
  { user_id: 'u-mate', email: 'mateo@example.test', name: 'Mateo Mate', role: 'member', joined_at: at },
];
const pending = { id: 'inv-1', email: null, role: 'member', created_at: at, expires_at: '2026-01-08T00:00:00.000Z', created_by: { id: 'u-owner', name: 'Olivia Owner' } };

let rendered: Rendered | undefined;
let restoreFetch: (() => void) | undefined;
beforeEach(() => {
  viewer.role = 'owner';
});
afterEach(async () => {
  await rendered?.unmount();
  restoreFetch?.();
});

type Answer = (req: ScriptedRequest) => { status: number; body?: unknown } | undefined;

/** The members page against a scripted server; `answer` handles writes, reads have defaults. */
async function renderPage(answer: Answer = () => undefined) {
  const fake = scriptFetch((req) => {
    const scripted = answer(req);
    if (scripted) return scripted;
    if (req.method === 'GET' && req.path === '/api/workspaces/ws-1/members') return { status: 200, body: { members } };
    if (req.method === 'GET' && req.path === '/api/workspaces/ws-1/invitations') return { status: 200, body: { invitations: [pending] } };
    return { status: 404, body: { error: { code: 'not_found', message: 'no such route' } } };
  });
  restoreFetch = fake.restore;
  rendered = await render(<MembersSettings />);
  const { container } = rendered;
  await waitUntil(() => container.querySelector(`ul[aria-label="${t.title}"]`) !== null, 'the members list');
  return { container, requests: fake.requests };
}

/** The control a <label> names, as a person finds it by its label. */
function byLabel<T extends HTMLElement>(container: ParentNode, text: string): T {
  const label = [...container.querySelectorAll('label')].find((l) => l.textContent === text);
  const control = label?.htmlFor ? (container.querySelector(`[id="${label.htmlFor}"]`) as T | null) : null;
  if (!control) throw new Error(`no control labelled ${text}`);
  return control;
}

async function type(input: HTMLInputElement, value: string) {
  await act(async () => {
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, value);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

async function choose(select: HTMLSelectElement, value: string) {
  await act(async () => {
    Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value')!.set!.call(select, value);
    select.dispatchEvent(new Event('change', { bubbles: true }));
  });
}

const button = (root: ParentNode, name: string) =>
  [...root.querySelectorAll('button')].find((b) => (b.getAttribute('aria-label') ?? b.textContent) === name) as HTMLButtonElement | undefined;

/** The sentence a control is described by (its error, once it has one). */
const describedBy = (control: HTMLElement) =>
  (control.getAttribute('aria-describedby') ?? '')
    .split(' ')
    .map((id) => document.getElementById(id)?.textContent ?? '')
    .join(' ');

describe('inviting', () => {
  test('sends the contract’s input and shows the link once, in a labelled field', async () => {
    const url = `http://localhost:3000/invite/${'a'.repeat(43)}`;
    const { container, requests } = await renderPage((req) =>
      req.method === 'POST'
        ? { status: 201, body: { invitation: { ...pending, id: 'inv-2', email: 'new.person@example.com', role: 'admin' }, token: 'a'.repeat(43), url } }
        : undefined,
    );
    expect(byLabel<HTMLSelectElement>(container, t.role).value).toBe('member');
    expect(byLabel<HTMLSelectElement>(container, t.expiresIn).value).toBe('7');
    await type(byLabel(container, t.inviteEmail), ' New.Person@Example.COM ');
    await choose(byLabel(container, t.role), 'admin');
    await choose(byLabel(container, t.expiresIn), '14');
    await click(button(container, t.createInvite));
    await waitUntil(() => container.textContent!.includes(fill(t.inviteCreatedFor, { email: 'new.person@example.com' })), 'the created link');
    expect(requests.find((r) => r.method === 'POST')).toMatchObject({
      path: '/api/workspaces/ws-1/invitations',
      body: { email: 'new.person@example.com', role: 'admin', expires_in_days: 14 },
    });
    expect(byLabel<HTMLInputElement>(container, t.inviteLink).value).toBe(url);
    // The form is ready for the next invitation.
    expect(byLabel<HTMLInputElement>(container, t.inviteEmail).value).toBe('');
    expect(byLabel<HTMLSelectElement>(container, t.role).value).toBe('member');
  });

  test('a bad email is explained on its field in the current language and sends nothing', async () => {
    const { container, requests } = await renderPage();
    await type(byLabel(container, t.inviteEmail), 'not-an-email');
    await click(button(container, t.createInvite));
    await settle();
    const email = byLabel<HTMLInputElement>(container, t.inviteEmail);
    expect(email.getAttribute('aria-invalid')).toBe('true');
    expect(describedBy(email)).toBe(en.auth.invalidEmail);
    expect(requests.filter((r) => r.method === 'POST')).toEqual([]);
  });

  test("the server's field errors land on their fields; a current member's email is said in the current language", async () => {
    type Reply = { status: number; body: { error: { code: string; message: string; fields: Record<string, string> } } };
    let reply: Reply = { status: 409, body: { error: { code: 'conflict', message: 'This person is already a member', fields: { email: 'This person is already a member' } } } };
    const { container } = await renderPage((req) => (req.method === 'POST' ? reply : undefined));
    await type(byLabel(container, t.inviteEmail), 'mateo@example.test');
    await click(button(container, t.createInvite));
    const email = byLabel<HTMLInputElement>(container, t.inviteEmail);
    await waitUntil(() => email.getAttribute('aria-invalid') === 'true', 'the email error');
    expect(describedBy(email)).toBe(t.alreadyMember);

    reply = { status: 422, body: { error: { code: 'validation_failed', message: 'Invalid input', fields: { expires_in_days: 'Expiry is at most 30 days' } } } };
    await click(button(container, t.createInvite));
    const expiry = byLabel<HTMLSelectElement>(container, t.expiresIn);
    await waitUntil(() => expiry.getAttribute('aria-invalid') === 'true', 'the expiry error');
    expect(describedBy(expiry)).toBe('Expiry is at most 30 days');
  });

  test('pending invitations are listed by who may use them, and revocable', async () => {
    const { container, requests } = await renderPage((req) => (req.method === 'DELETE' ? { status: 204 } : undefined));
    const list = () => container.querySelector(`ul[aria-label="${t.pendingTitle}"]`);
    await waitUntil(() => list() !== null, 'the pending list');
    const row = list()!.querySelector(`li[aria-label="${t.anyoneWithLink}"]`)!;
    expect(row.textContent).toContain(fill(t.invitedBy, { name: 'Olivia Owner' }));
    await click(button(row, fill(t.revokeInvite, { who: t.anyoneWithLink })));
    await waitUntil(() => requests.some((r) => r.method === 'DELETE'), 'the revoke');
    expect(requests.find((r) => r.method === 'DELETE')?.path).toBe('/api/workspaces/ws-1/invitations/inv-1');
  });
});

describe('roles', () => {
  test('an owner changes a role from its labelled select; a refusal puts the select back and says why under it', async () => {
    let reply = { status: 200, body: { member: { ...members[1], role: 'admin' } } } as { status: number; body: unknown };
    const { container, requests } = await renderPage((req) => (req.method === 'PATCH' ? reply : undefined));
    const select = () => byLabel<HTMLSelectElement>(container, fill(t.roleFor, { name: 'Mateo Mate' }));
    // The last owner has no select: their role cannot change.
    expect(() => byLabel(container, fill(t.roleFor, { name: 'Olivia Owner' }))).toThrow();
    await choose(select(), 'admin');
    await waitUntil(() => requests.some((r) => r.method === 'PATCH'), 'the role change');
    expect(requests.find((r) => r.method === 'PATCH')).toMatchObject({ path: '/api/workspaces/ws-1/members/u-mate', body: { role: 'admin' } });

    reply = { status: 409, body: { error: { code: 'conflict', message: 'A workspace needs at least one owner' } } };
    await choose(select(), 'owner');
    await waitUntil(() => select().getAttribute('aria-invalid') === 'true', 'the role error');
    expect(select().value).toBe('member');
    expect(describedBy(select())).toBe(en.errors.conflict);
  });

  test('a plain member sees the list and the notice, and no controls', async () => {
    viewer.role = 'member';
    const { container, requests } = await renderPage();
    expect(container.textContent).toContain(t.memberNotice);
    expect(container.querySelectorAll('select')).toHaveLength(0);
    expect(button(container, t.createInvite)).toBeUndefined();
    expect(requests.some((r) => r.path.endsWith('/invitations'))).toBe(false);
  });

  test('removing someone asks first, in a dialog', async () => {
    const { container, requests } = await renderPage((req) => (req.method === 'DELETE' ? { status: 204 } : undefined));
    await click(button(container, fill(t.removeMember, { name: 'Mateo Mate' })));
    const dialog = document.body.querySelector('[role="dialog"]')!;
    expect(dialog.textContent).toContain(fill(t.removeConfirm, { name: 'Mateo Mate' }));
    expect(requests.some((r) => r.method === 'DELETE')).toBe(false);
    await click(button(dialog, t.removeConfirmButton));
    await waitUntil(() => requests.some((r) => r.method === 'DELETE'), 'the removal');
    expect(requests.find((r) => r.method === 'DELETE')?.path).toBe('/api/workspaces/ws-1/members/u-mate');
  });
});
