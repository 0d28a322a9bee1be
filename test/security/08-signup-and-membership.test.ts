import { and, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import * as me from '@/app/api/me/route';
import * as workspaces from '@/app/api/workspaces/route';
import * as members from '@/app/api/workspaces/[id]/members/route';
import { member, user } from '@/server/db/schema';
import { parseEnv, resetEnvForTests } from '@/server/env';
import { authRequest, call } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';

// Attacks on sign-up and membership: squatting, enumeration, joining people without consent,
// abusing invitation links, through the auth handler and the routes.

type Handler = (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;
type Account = { id: string; email: string; token: string };

const PASSWORD = 'lilac-harbour-lantern';
let t: TestDatabase;
let ip = 0;

function authPost(path: string, body: unknown): Promise<Response> {
  ip += 1;
  return authRequest(path, body, `10.8.${Math.floor(ip / 250)}.${ip % 250}`);
}

async function register(name: string, email: string, extra: Record<string, unknown> = {}): Promise<Account> {
  const up = await authPost('/sign-up/email', { name, email, password: PASSWORD, ...extra });
  if (up.status !== 200) throw new Error(`sign-up of ${email}: ${up.status} ${await up.text()}`);
  const res = await authPost('/sign-in/email', { email, password: PASSWORD });
  if (res.status !== 200) throw new Error(`sign-in of ${email}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { user: { id: string } };
  return { id: body.user.id, email, token: res.headers.get('set-auth-token') ?? '' };
}

function setSignUp(policy: 'open' | 'invite') {
  process.env.SIGN_UP = policy;
  resetEnvForTests();
}

// The invitation routes are loaded when a case needs them, so the cases that do not still run
// against a build that has none.
const invitationRoutes = async () => {
  const [list, one, accept] = await Promise.all([
    import('@/app/api/workspaces/[id]/invitations/route'),
    import('@/app/api/workspaces/[id]/invitations/[invitationId]/route'),
    import('@/app/api/invitations/accept/route'),
  ]);
  return { create: list.POST as Handler, list: list.GET as Handler, revoke: one.DELETE as Handler, accept: accept.POST as Handler };
};

async function isMember(workspaceId: string, userId: string): Promise<boolean> {
  const rows = await t.db.select().from(member).where(and(eq(member.workspaceId, workspaceId), eq(member.userId, userId)));
  return rows.length > 0;
}

async function invite(by: Account, workspaceId: string, body: Record<string, unknown>) {
  const routes = await invitationRoutes();
  const res = await call(routes.create, 'POST', { token: by.token, params: { id: workspaceId }, body });
  expect(res.status).toBe(201);
  return res.body as { token: string; invitation: { id: string } };
}

let owner: Account;
let admin: Account;
let plain: Account;
let outsider: Account;
let wsA: { id: string };
let wsB: { id: string };

beforeAll(async () => {
  t = await useTestDatabase();
  // The instance is empty: under the invite-only policy its first account may still sign up.
  setSignUp('invite');
  owner = await register('Owner', 'owner@acme.example');
  setSignUp('open');
  admin = await register('Admin', 'admin@acme.example');
  plain = await register('Plain', 'plain@acme.example');
  outsider = await register('Outsider', 'outsider@rival.example');
  wsA = (await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Acme', slug: 'acme-sec08', issue_prefix: 'ACM' } })).body.workspace;
  wsB = (await call(workspaces.POST, 'POST', { token: outsider.token, body: { name: 'Rival', slug: 'rival-sec08', issue_prefix: 'RIV' } })).body.workspace;
  // Members joined directly in the database: how they got in is not what these cases test.
  await t.db.insert(member).values([
    { workspaceId: wsA.id, userId: admin.id, role: 'admin' },
    { workspaceId: wsA.id, userId: plain.id, role: 'member' },
  ]);
});
afterEach(() => setSignUp('open'));
afterAll(async () => {
  delete process.env.SIGN_UP;
  resetEnvForTests();
  await t?.drop();
});

describe('sign-up policy', () => {
  test('invite-only is the default', () => {
    expect(parseEnv({ DATABASE_URL: 'postgres://localhost/x' }).SIGN_UP).toBe('invite');
  });

  test("under SIGN_UP=invite nobody can sign up without an invitation, so a colleague's email cannot be squatted", async () => {
    setSignUp('invite');
    for (const extra of [{}, { invitationToken: 'A'.repeat(43) }, { invitationToken: 'not-a-token' }]) {
      const res = await authPost('/sign-up/email', { name: 'Squatter', email: 'cfo@acme.example', password: PASSWORD, ...extra });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe('INVITATION_REQUIRED');
    }
    expect(await t.db.select().from(user).where(eq(user.email, 'cfo@acme.example'))).toHaveLength(0);
    expect((await authPost('/sign-in/email', { email: 'cfo@acme.example', password: PASSWORD })).status).toBe(401);
  });

  test('sign-up answers a taken email exactly as a free one, and signs nobody in', async () => {
    const attempt = (email: string) => authPost('/sign-up/email', { name: 'Prober', email, password: 'prober-password-77' });
    const [taken, free] = await Promise.all([attempt(owner.email), attempt('nobody-yet@acme.example')]);
    expect(taken.status).toBe(free.status);
    expect(taken.status).toBe(200);
    const shape = async (res: Response) => {
      const body = (await res.json()) as { token: unknown; user: Record<string, unknown> };
      return {
        token: body.token,
        user: Object.fromEntries(Object.entries(body.user).map(([k, v]) => [k, k === 'email' || k === 'name' ? v : typeof v])),
        session: res.headers.get('set-auth-token') ?? res.headers.get('set-cookie') ?? null,
      };
    };
    const [takenShape, freeShape] = [await shape(taken), await shape(free)];
    expect({ ...takenShape, user: { ...takenShape.user, email: 'x' } }).toEqual({ ...freeShape, user: { ...freeShape.user, email: 'x' } });
    expect(takenShape.token).toBeNull();
    expect(takenShape.session).toBeNull();
    // The existing account is untouched: its password still works, the prober's does not.
    expect((await authPost('/sign-in/email', { email: owner.email, password: 'prober-password-77' })).status).toBe(401);
    expect((await authPost('/sign-in/email', { email: owner.email, password: PASSWORD })).status).toBe(200);
  });
});

describe('membership needs consent', () => {
  test('an existing account cannot be added to a workspace by email', async () => {
    const route = members as unknown as Record<string, Handler | undefined>;
    if (route.POST) {
      const res = await call(route.POST, 'POST', { token: owner.token, params: { id: wsA.id }, body: { email: outsider.email, role: 'owner' } });
      expect(res.status).not.toBe(201);
    }
    expect(await isMember(wsA.id, outsider.id)).toBe(false);
    const theirs = await call(me.GET, 'GET', { token: outsider.token });
    expect(theirs.body.workspaces.map((w: { id: string }) => w.id)).toEqual([wsB.id]);
  });

  test('an invitation naming one email cannot be accepted by another account', async () => {
    const routes = await invitationRoutes();
    const created = await invite(owner, wsA.id, { email: 'alice@acme.example', role: 'member' });
    const res = await call(routes.accept, 'POST', { token: outsider.token, body: { token: created.token } });
    expect(res.status).toBe(403);
    expect(await isMember(wsA.id, outsider.id)).toBe(false);
    // Under the invite policy the link cannot open sign-up for another address either.
    setSignUp('invite');
    const squat = await authPost('/sign-up/email', { name: 'Mallory', email: 'mallory@rival.example', password: PASSWORD, invitationToken: created.token });
    expect(squat.status).toBe(403);
    // Alice herself still can.
    const alice = await register('Alice', 'alice@acme.example', { invitationToken: created.token });
    expect((await call(routes.accept, 'POST', { token: alice.token, body: { token: created.token } })).status).toBe(200);
    expect(await isMember(wsA.id, alice.id)).toBe(true);
  });

  test('a plain member can neither create, list nor revoke invitations', async () => {
    const routes = await invitationRoutes();
    const p = { id: wsA.id };
    expect((await call(routes.create, 'POST', { token: plain.token, params: p, body: { role: 'member' } })).status).toBe(403);
    expect((await call(routes.list, 'GET', { token: plain.token, params: p })).status).toBe(403);
    const pending = await invite(owner, wsA.id, { role: 'member' });
    expect((await call(routes.revoke, 'DELETE', { token: plain.token, params: { ...p, invitationId: pending.invitation.id } })).status).toBe(403);
  });

  test('an admin cannot invite an owner', async () => {
    const routes = await invitationRoutes();
    const before = (await call(routes.list, 'GET', { token: owner.token, params: { id: wsA.id } })).body.invitations.length;
    const res = await call(routes.create, 'POST', { token: admin.token, params: { id: wsA.id }, body: { email: 'boss@rival.example', role: 'owner' } });
    expect(res.status).toBe(422);
    expect(res.body.error.fields.role).toBeTruthy();
    expect((await call(routes.list, 'GET', { token: owner.token, params: { id: wsA.id } })).body.invitations).toHaveLength(before);
  });

  test('a used, an expired and a revoked invitation answer 410', async () => {
    const routes = await invitationRoutes();
    const used = await invite(owner, wsA.id, { role: 'admin' });
    const first = await register('First', 'first@acme.example');
    const second = await register('Second', 'second@acme.example');
    expect((await call(routes.accept, 'POST', { token: first.token, body: { token: used.token } })).status).toBe(200);
    expect((await call(routes.accept, 'POST', { token: second.token, body: { token: used.token } })).status).toBe(410);

    const expired = await invite(owner, wsA.id, { role: 'member' });
    await t.db.execute(sql`UPDATE invitation SET created_at = now() - interval '8 days', expires_at = now() - interval '1 day' WHERE id = ${expired.invitation.id}`);
    expect((await call(routes.accept, 'POST', { token: second.token, body: { token: expired.token } })).status).toBe(410);

    const revoked = await invite(owner, wsA.id, { role: 'member' });
    expect((await call(routes.revoke, 'DELETE', { token: admin.token, params: { id: wsA.id, invitationId: revoked.invitation.id } })).status).toBe(204);
    const late = await call(routes.accept, 'POST', { token: second.token, body: { token: revoked.token } });
    expect(late.status).toBe(410);
    expect(late.body.error.code).toBe('gone');
    expect(await isMember(wsA.id, second.id)).toBe(false);
  });

  test("other workspaces' ids are 404", async () => {
    const routes = await invitationRoutes();
    const pending = await invite(owner, wsA.id, { role: 'member' });
    expect((await call(routes.list, 'GET', { token: outsider.token, params: { id: wsA.id } })).status).toBe(404);
    expect((await call(routes.create, 'POST', { token: outsider.token, params: { id: wsA.id }, body: { role: 'member' } })).status).toBe(404);
    expect((await call(routes.revoke, 'DELETE', { token: outsider.token, params: { id: wsA.id, invitationId: pending.invitation.id } })).status).toBe(404);
    // Workspace A's invitation addressed through workspace B, by B's owner.
    expect((await call(routes.revoke, 'DELETE', { token: outsider.token, params: { id: wsB.id, invitationId: pending.invitation.id } })).status).toBe(404);
    // Still pending: the owner of A can revoke it.
    expect((await call(routes.revoke, 'DELETE', { token: owner.token, params: { id: wsA.id, invitationId: pending.invitation.id } })).status).toBe(204);
  });
});
