import { createHash } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as me from '@/app/api/me/route';
import * as workspaces from '@/app/api/workspaces/route';
import * as members from '@/app/api/workspaces/[id]/members/route';
import * as memberOne from '@/app/api/workspaces/[id]/members/[userId]/route';
import * as invitations from '@/app/api/workspaces/[id]/invitations/route';
import * as invitationOne from '@/app/api/workspaces/[id]/invitations/[invitationId]/route';
import * as accept from '@/app/api/invitations/accept/route';
import { invitation } from '@/server/db/schema';
import { WORKSPACE_EVENTS_CHANNEL } from '@/server/events';
import { authRequest, call, joinByInvitation, signUp, TEST_APP_URL, TEST_PASSWORD, type TestUser } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';

let t: TestDatabase;
let owner: TestUser;
let admin: TestUser;
let plain: TestUser;
let outsider: TestUser;
let ws: { id: string; slug: string };
let otherWs: { id: string };

async function createWorkspace(user: TestUser, slug: string, prefix: string) {
  const res = await call(workspaces.POST, 'POST', { token: user.token, body: { name: slug, slug, issue_prefix: prefix } });
  expect(res.status).toBe(201);
  return res.body.workspace as { id: string; slug: string };
}

const create = (by: TestUser, body: unknown, id = ws.id) => call(invitations.POST, 'POST', { token: by.token, params: { id }, body });
const list = (by: TestUser, id = ws.id) => call(invitations.GET, 'GET', { token: by.token, params: { id } });
const revoke = (by: TestUser, invitationId: string, id = ws.id) => call(invitationOne.DELETE, 'DELETE', { token: by.token, params: { id, invitationId } });
const acceptAs = (by: TestUser | null, token: string) => call(accept.POST, 'POST', { token: by?.token, body: { token } });
const roleIn = async (user: TestUser, workspaceId = ws.id) =>
  ((await call(members.GET, 'GET', { token: owner.token, params: { id: workspaceId } })).body.members as { user_id: string; role: string }[]).find(
    (m) => m.user_id === user.id,
  )?.role;

beforeAll(async () => {
  t = await useTestDatabase();
  owner = await signUp('Owner');
  admin = await signUp('Admin');
  plain = await signUp('Plain');
  outsider = await signUp('Outsider');
  ws = await createWorkspace(owner, 'invite-team', 'INV');
  otherWs = await createWorkspace(outsider, 'invite-other', 'OTH');
  await joinByInvitation({ inviter: owner, workspaceId: ws.id, invitee: admin, role: 'admin' });
  await joinByInvitation({ inviter: owner, workspaceId: ws.id, invitee: plain });
});
afterAll(async () => t?.drop());

describe('creating and listing', () => {
  test('an owner or admin gets a link once; the list shows the invitation but never its token', async () => {
    for (const by of [owner, admin]) {
      const res = await create(by, { email: ' New.Person@Example.COM ', role: 'admin', expires_in_days: 14 });
      expect(res.status).toBe(201);
      const body = res.body as { token: string; url: string; invitation: { id: string; created_at: string; expires_at: string } };
      expect(body.url).toBe(`http://localhost:3000/invite/${body.token}`);
      expect(body.invitation).toMatchObject({ email: 'new.person@example.com', role: 'admin', created_by: { id: by.id } });
      const days = (Date.parse(body.invitation.expires_at) - Date.parse(body.invitation.created_at)) / 86_400_000;
      expect(days).toBeCloseTo(14, 5);
      const listed = (await list(by)).body.invitations as { id: string }[];
      expect(listed.map((i) => i.id)).toContain(body.invitation.id);
      expect(JSON.stringify((await list(by)).body)).not.toContain(body.token);
      // Only a hash of the token is stored.
      const [row] = await t.db.select().from(invitation).where(eq(invitation.id, body.invitation.id));
      expect(row.tokenHash).toBe(createHash('sha256').update(body.token).digest('hex'));
      expect(JSON.stringify(row)).not.toContain(body.token);
    }
  });

  test('defaults: anyone with the link, member, seven days', async () => {
    const res = await create(owner, {});
    expect(res.status).toBe(201);
    expect(res.body.invitation).toMatchObject({ email: null, role: 'member' });
    const days = (Date.parse(res.body.invitation.expires_at) - Date.parse(res.body.invitation.created_at)) / 86_400_000;
    expect(days).toBeCloseTo(7, 5);
  });

  test('roles: a member gets 403 on every invitation route, a signed-out caller 401', async () => {
    const pending = (await create(owner, { role: 'member' })).body.invitation.id;
    expect((await create(plain, { role: 'member' })).status).toBe(403);
    expect((await list(plain)).status).toBe(403);
    expect((await revoke(plain, pending)).status).toBe(403);
    expect((await call(invitations.GET, 'GET', { params: { id: ws.id } })).status).toBe(401);
    const sameSite = { origin: TEST_APP_URL };
    expect((await call(invitations.POST, 'POST', { params: { id: ws.id }, body: {}, headers: sameSite })).status).toBe(401);
    expect((await call(accept.POST, 'POST', { body: { token: 'x'.repeat(43) }, headers: sameSite })).status).toBe(401);
  });

  test('bad input is refused field by field and creates nothing', async () => {
    const before = (await list(owner)).body.invitations.length;
    const cases: [unknown, string][] = [
      [{ email: 'not-an-email' }, 'email'],
      [{ role: 'owner' }, 'role'],
      [{ role: 'superuser' }, 'role'],
      [{ expires_in_days: 0 }, 'expires_in_days'],
      [{ expires_in_days: 31 }, 'expires_in_days'],
      [{ expires_in_days: 2.5 }, 'expires_in_days'],
      [{ expires_in_days: 'soon' }, 'expires_in_days'],
      [{ email: `${'a'.repeat(250)}@example.com` }, 'email'],
    ];
    for (const [body, field] of cases) {
      const res = await create(owner, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(Object.keys(res.body.error.fields)).toEqual([field]);
    }
    expect((await call(invitations.POST, 'POST', { token: owner.token, params: { id: ws.id }, rawBody: '{nope' })).status).toBe(400);
    expect((await list(owner)).body.invitations).toHaveLength(before);
  });

  test("inviting a current member's email is a 409", async () => {
    const res = await create(admin, { email: plain.email.toUpperCase() });
    expect(res.status).toBe(409);
    expect(res.body.error.fields.email).toBeTruthy();
  });

  test("other workspaces' invitations are 404, and so are ids that are not uuids", async () => {
    const mine = (await create(owner, {})).body.invitation.id;
    expect((await list(outsider)).status).toBe(404);
    expect((await create(outsider, {})).status).toBe(404);
    expect((await revoke(outsider, mine)).status).toBe(404);
    expect((await revoke(outsider, mine, otherWs.id)).status).toBe(404);
    expect((await revoke(owner, 'not-a-uuid')).status).toBe(404);
    expect((await revoke(owner, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await list(owner)).body.invitations.map((i: { id: string }) => i.id)).toContain(mine);
  });
});

describe('accepting', () => {
  test('a link without an email admits any account once, with its role; it then leaves the list', async () => {
    const { token, invitation: inv } = (await create(owner, { role: 'admin' })).body;
    const joiner = await signUp('Joiner');
    const res = await acceptAs(joiner, token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ workspace: { id: ws.id, name: 'invite-team', slug: ws.slug }, role: 'admin' });
    expect(await roleIn(joiner)).toBe('admin');
    expect((await call(me.GET, 'GET', { token: joiner.token })).body.workspaces.map((w: { id: string }) => w.id)).toContain(ws.id);
    expect((await list(owner)).body.invitations.map((i: { id: string }) => i.id)).not.toContain(inv.id);
    const again = await acceptAs(await signUp('Late'), token);
    expect(again.status).toBe(410);
    expect(again.body.error.code).toBe('gone');
  });

  test('an email is matched without regard to case', async () => {
    const person = await signUp('Casey', `casey-${Date.now()}@example.com`);
    const { token } = (await create(owner, { email: person.email.toUpperCase() })).body;
    expect((await acceptAs(person, token)).status).toBe(200);
    expect(await roleIn(person)).toBe('member');
  });

  test('a member accepting another link gets 409 and the link stays usable', async () => {
    const { token } = (await create(owner, {})).body;
    expect((await acceptAs(plain, token)).status).toBe(409);
    expect(await roleIn(plain)).toBe('member');
    expect((await acceptAs(await signUp('Next'), token)).status).toBe(200);
  });

  test('two accounts accepting one link at once: one joins, the other gets 410', async () => {
    const { token } = (await create(owner, {})).body;
    const [a, b] = [await signUp('Racer A'), await signUp('Racer B')];
    const results = await Promise.all([acceptAs(a, token), acceptAs(b, token)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 410]);
    const joined = [await roleIn(a), await roleIn(b)].filter(Boolean);
    expect(joined).toEqual(['member']);
  });

  test('unknown and malformed tokens are 404; an empty one is 422', async () => {
    const someone = await signUp('Guesser');
    expect((await acceptAs(someone, 'A'.repeat(43))).status).toBe(404);
    expect((await acceptAs(someone, 'short')).status).toBe(404);
    expect((await acceptAs(someone, '')).status).toBe(422);
  });

  test('an invitation stops working when its creator is no longer an owner or admin', async () => {
    const helper = await signUp('Helper');
    await joinByInvitation({ inviter: owner, workspaceId: ws.id, invitee: helper, role: 'admin' });
    const { token, invitation: inv } = (await create(helper, {})).body;
    expect((await call(memberOne.PATCH, 'PATCH', { token: owner.token, params: { id: ws.id, userId: helper.id }, body: { role: 'member' } })).status).toBe(200);
    expect((await list(owner)).body.invitations.map((i: { id: string }) => i.id)).not.toContain(inv.id);
    expect((await acceptAs(await signUp('Too late'), token)).status).toBe(410);
  });

  test('revoking: pending once, 410 after; accepting a revoked link is 410', async () => {
    const { token, invitation: inv } = (await create(admin, {})).body;
    expect((await revoke(admin, inv.id)).status).toBe(204);
    expect((await revoke(owner, inv.id)).status).toBe(410);
    expect((await acceptAs(await signUp('Revoked'), token)).status).toBe(410);
    const used = (await create(owner, {})).body;
    expect((await acceptAs(await signUp('Used'), used.token)).status).toBe(200);
    expect((await revoke(owner, used.invitation.id)).status).toBe(410);
  });

  test('creating, revoking and accepting each tell the workspace (members.changed)', async () => {
    const listener = new pg.Client({ connectionString: t.url });
    await listener.connect();
    const events: string[] = [];
    listener.on('notification', (n) => {
      const payload = JSON.parse(n.payload ?? '{}') as { type: string; workspace_id: string };
      if (payload.workspace_id === ws.id) events.push(payload.type);
    });
    await listener.query(`LISTEN ${WORKSPACE_EVENTS_CHANNEL}`);
    try {
      const first = (await create(owner, {})).body;
      await revoke(owner, first.invitation.id);
      const second = (await create(owner, {})).body;
      await acceptAs(await signUp('Evented'), second.token);
      await expect.poll(() => events.length).toBeGreaterThanOrEqual(4);
      expect(events.slice(0, 4)).toEqual(['members.changed', 'members.changed', 'members.changed', 'members.changed']);
    } finally {
      await listener.end();
    }
  });

  test('the database refuses an expiry beyond 30 days and a second outcome', async () => {
    const { invitation: inv } = (await create(owner, {})).body;
    await expect(t.db.execute(sql`UPDATE invitation SET expires_at = created_at + interval '31 days' WHERE id = ${inv.id}`)).rejects.toThrow();
    await expect(t.db.execute(sql`UPDATE invitation SET accepted_at = now(), revoked_at = now() WHERE id = ${inv.id}`)).rejects.toThrow();
  });
});

describe('sign-up through an invitation (SIGN_UP=invite)', () => {
  const policy = async <T>(work: () => Promise<T>): Promise<T> => {
    const { resetEnvForTests } = await import('@/server/env');
    process.env.SIGN_UP = 'invite';
    resetEnvForTests();
    try {
      return await work();
    } finally {
      process.env.SIGN_UP = 'open';
      resetEnvForTests();
    }
  };
  const signUpBody = (email: string, extra: Record<string, unknown> = {}) => ({ name: 'Invitee', email, password: TEST_PASSWORD, ...extra });

  test('a pending link opens sign-up; the new account then accepts', async () => {
    const { token } = (await create(owner, { role: 'member' })).body;
    const email = `invitee-${Date.now()}@example.com`;
    const joined = await policy(() => signUp('Invitee', email, { invitationToken: token }));
    expect((await acceptAs(joined, token)).status).toBe(200);
    expect(await roleIn(joined)).toBe('member');
  });

  test('a named email opens sign-up for that address only; used or revoked links open nothing', async () => {
    const named = (await create(owner, { email: 'named@example.com' })).body;
    const wrong = await policy(() => authRequest('/sign-up/email', signUpBody('other@example.com', { invitationToken: named.token }), '10.7.0.1'));
    expect(wrong.status).toBe(403);
    expect(((await wrong.json()) as { code: string }).code).toBe('INVITATION_EMAIL_MISMATCH');

    const revoked = (await create(owner, {})).body;
    await revoke(owner, revoked.invitation.id);
    const withRevoked = await policy(() => authRequest('/sign-up/email', signUpBody('revoked-link@example.com', { invitationToken: revoked.token }), '10.7.0.2'));
    expect(withRevoked.status).toBe(403);
    expect(((await withRevoked.json()) as { code: string }).code).toBe('INVITATION_REQUIRED');
  });

  test('under SIGN_UP=open an account is created without an invitation', async () => {
    const res = await authRequest('/sign-up/email', signUpBody(`free-${Date.now()}@example.com`), '10.7.0.3');
    expect(res.status).toBe(200);
  });
});
