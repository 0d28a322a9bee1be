import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call, joinByInvitation, signUp, type TestUser } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';
import { resetEnvForTests } from '@/server/env';
import { agent as agentTable } from '@/server/db/schema';
import * as me from '@/app/api/me/route';
import * as workspaces from '@/app/api/workspaces/route';
import * as bySlug from '@/app/api/workspaces/by-slug/[slug]/route';
import * as ws from '@/app/api/workspaces/[id]/route';
import * as members from '@/app/api/workspaces/[id]/members/route';
import * as memberOne from '@/app/api/workspaces/[id]/members/[userId]/route';
import * as invitations from '@/app/api/workspaces/[id]/invitations/route';
import * as agents from '@/app/api/workspaces/[id]/agents/route';
import * as agentOne from '@/app/api/workspaces/[id]/agents/[agentId]/route';
import * as archive from '@/app/api/workspaces/[id]/agents/[agentId]/archive/route';
import * as unarchive from '@/app/api/workspaces/[id]/agents/[agentId]/unarchive/route';
import * as sessions from '@/app/api/workspaces/[id]/chat/sessions/route';
import * as sessionOne from '@/app/api/workspaces/[id]/chat/sessions/[sessionId]/route';
import * as messages from '@/app/api/workspaces/[id]/chat/sessions/[sessionId]/messages/route';
import * as issues from '@/app/api/workspaces/[id]/issues/route';
import * as issueOne from '@/app/api/workspaces/[id]/issues/[issueId]/route';
import * as events from '@/app/api/workspaces/[id]/events/route';

let t: TestDatabase;
let owner: TestUser;
let outsider: TestUser;
let plainMember: TestUser;
let wsA: { id: string };
let wsB: { id: string };
let agentA: { id: string };
let agentB: { id: string };
let sessionA: { id: string };
let issueA: { id: string };

async function createWorkspace(user: TestUser, slug: string, prefix: string) {
  const res = await call(workspaces.POST, 'POST', { token: user.token, body: { name: slug, slug, issue_prefix: prefix } });
  expect(res.status).toBe(201);
  return res.body.workspace as { id: string };
}

beforeAll(async () => {
  t = await useTestDatabase();
  owner = await signUp('Owner');
  outsider = await signUp('Outsider');
  plainMember = await signUp('Member');
  wsA = await createWorkspace(owner, 'alpha-team', 'ALP');
  wsB = await createWorkspace(outsider, 'beta-team', 'BET');
  await joinByInvitation({ inviter: owner, workspaceId: wsA.id, invitee: plainMember });
  agentA = (await call(agents.POST, 'POST', { token: owner.token, params: { id: wsA.id }, body: { name: 'Echo', avatar_color: '#336699', runtime: { kind: 'echo' } } })).body.agent;
  agentB = (await call(agents.POST, 'POST', { token: outsider.token, params: { id: wsB.id }, body: { name: 'Other', avatar_color: '#993366', runtime: null } })).body.agent;
  sessionA = (await call(sessions.POST, 'POST', { token: owner.token, params: { id: wsA.id }, body: { agent_id: agentA.id } })).body.session;
  issueA = (await call(issues.POST, 'POST', { token: owner.token, params: { id: wsA.id }, body: { title: 'First' } })).body.issue;
});
afterAll(async () => t?.drop());

type Route = { child?: boolean; name: string; handler: (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>; method: string; params: () => Record<string, string>; body?: unknown };
const bodyOf = (r: Route) => (typeof r.body === 'function' ? (r.body as () => unknown)() : r.body);

// Every workspace-scoped route, addressed with workspace A's ids.
const scopedRoutes: Route[] = [
  { name: 'GET workspace', handler: ws.GET, method: 'GET', params: () => ({ id: wsA.id }) },
  { name: 'PATCH workspace', handler: ws.PATCH, method: 'PATCH', params: () => ({ id: wsA.id }), body: { name: 'x' } },
  { name: 'GET members', handler: members.GET, method: 'GET', params: () => ({ id: wsA.id }) },
  { name: 'GET invitations', handler: invitations.GET, method: 'GET', params: () => ({ id: wsA.id }) },
  { name: 'POST invitations', handler: invitations.POST, method: 'POST', params: () => ({ id: wsA.id }), body: { email: 'nobody@example.com', role: 'member' } },
  { child: true, name: 'PATCH member', handler: memberOne.PATCH, method: 'PATCH', params: () => ({ id: wsA.id, userId: plainMember.id }), body: { role: 'admin' } },
  { child: true, name: 'DELETE member', handler: memberOne.DELETE, method: 'DELETE', params: () => ({ id: wsA.id, userId: plainMember.id }) },
  { name: 'GET agents', handler: agents.GET, method: 'GET', params: () => ({ id: wsA.id }) },
  { name: 'POST agents', handler: agents.POST, method: 'POST', params: () => ({ id: wsA.id }), body: { name: 'n', avatar_color: '#000000', runtime: null } },
  { child: true, name: 'GET agent', handler: agentOne.GET, method: 'GET', params: () => ({ id: wsA.id, agentId: agentA.id }) },
  { child: true, name: 'PATCH agent', handler: agentOne.PATCH, method: 'PATCH', params: () => ({ id: wsA.id, agentId: agentA.id }), body: { name: 'n' } },
  { child: true, name: 'archive agent', handler: archive.POST, method: 'POST', params: () => ({ id: wsA.id, agentId: agentA.id }) },
  { child: true, name: 'unarchive agent', handler: unarchive.POST, method: 'POST', params: () => ({ id: wsA.id, agentId: agentA.id }) },
  { name: 'GET sessions', handler: sessions.GET, method: 'GET', params: () => ({ id: wsA.id }) },
  { child: true, name: 'POST sessions', handler: sessions.POST, method: 'POST', params: () => ({ id: wsA.id }), body: () => ({ agent_id: agentA.id }) },
  { child: true, name: 'GET session', handler: sessionOne.GET, method: 'GET', params: () => ({ id: wsA.id, sessionId: sessionA.id }) },
  { child: true, name: 'GET messages', handler: messages.GET, method: 'GET', params: () => ({ id: wsA.id, sessionId: sessionA.id }) },
  { child: true, name: 'POST messages', handler: messages.POST, method: 'POST', params: () => ({ id: wsA.id, sessionId: sessionA.id }), body: { content: 'hi' } },
  { name: 'GET issues', handler: issues.GET, method: 'GET', params: () => ({ id: wsA.id }) },
  { name: 'POST issues', handler: issues.POST, method: 'POST', params: () => ({ id: wsA.id }), body: { title: 'x' } },
  { child: true, name: 'GET issue', handler: issueOne.GET, method: 'GET', params: () => ({ id: wsA.id, issueId: issueA.id }) },
  { name: 'GET events', handler: events.GET, method: 'GET', params: () => ({ id: wsA.id }) },
];

describe('tenant isolation', () => {
  test.each(scopedRoutes)('$name: 401 without a session', async (r) => {
    const res = await call(r.handler, r.method, { params: r.params(), body: bodyOf(r) });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });

  test.each(scopedRoutes)("$name: another workspace's member gets 404", async (r) => {
    const res = await call(r.handler, r.method, { token: outsider.token, params: r.params(), body: bodyOf(r) });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });

  // Child ids of workspace A addressed through workspace B, by B's owner: never found.
  const childRoutes = scopedRoutes.filter((r) => r.child);
  test.each(childRoutes)("$name: workspace A's child ids under workspace B are 404", async (r) => {
    const params = { ...r.params(), id: wsB.id };
    const res = await call(r.handler, r.method, { token: outsider.token, params, body: bodyOf(r) });
    expect(res.status).toBe(404);
  });

  test('malformed ids are 404, not 500', async () => {
    expect((await call(ws.GET, 'GET', { token: owner.token, params: { id: 'not-a-uuid' } })).status).toBe(404);
    expect((await call(agentOne.GET, 'GET', { token: owner.token, params: { id: wsA.id, agentId: '123' } })).status).toBe(404);
  });

  test('by-slug hides workspaces the caller is not a member of', async () => {
    expect((await call(bySlug.GET, 'GET', { token: outsider.token, params: { slug: 'alpha-team' } })).status).toBe(404);
    const ok = await call(bySlug.GET, 'GET', { token: plainMember.token, params: { slug: 'alpha-team' } });
    expect(ok.status).toBe(200);
    expect(ok.body.workspace).toMatchObject({ id: wsA.id, role: 'member' });
  });

  test('agent B cannot be used to open a session in workspace A', async () => {
    const res = await call(sessions.POST, 'POST', { token: owner.token, params: { id: wsA.id }, body: { agent_id: agentB.id } });
    expect(res.status).toBe(404);
  });
});

describe('role checks on mutating routes', () => {
  test('a member cannot rename the workspace, invite people, change roles or remove others', async () => {
    const p = { id: wsA.id };
    expect((await call(ws.PATCH, 'PATCH', { token: plainMember.token, params: p, body: { name: 'Renamed' } })).status).toBe(403);
    expect((await call(invitations.POST, 'POST', { token: plainMember.token, params: p, body: { email: outsider.email, role: 'member' } })).status).toBe(403);
    expect((await call(memberOne.PATCH, 'PATCH', { token: plainMember.token, params: { ...p, userId: owner.id }, body: { role: 'member' } })).status).toBe(403);
    expect((await call(memberOne.PATCH, 'PATCH', { token: plainMember.token, params: { ...p, userId: plainMember.id }, body: { role: 'admin' } })).status).toBe(403);
    expect((await call(memberOne.DELETE, 'DELETE', { token: plainMember.token, params: { ...p, userId: owner.id } })).status).toBe(403);
    const after = await call(members.GET, 'GET', { token: owner.token, params: p });
    expect(after.body.members.map((m: { role: string }) => m.role).sort()).toEqual(['member', 'owner']);
  });

  test("a member cannot edit or archive someone else's agent", async () => {
    const p = { id: wsA.id, agentId: agentA.id };
    const patch = await call(agentOne.PATCH, 'PATCH', { token: plainMember.token, params: p, body: { name: 'Mine now' } });
    expect(patch.status).toBe(403);
    expect((await call(archive.POST, 'POST', { token: plainMember.token, params: p })).status).toBe(403);
    expect((await call(agentOne.GET, 'GET', { token: plainMember.token, params: p })).body.agent).toMatchObject({ name: 'Echo', archived_at: null, can_edit: false });
  });

  test('an admin can manage members but not owners', async () => {
    const admin = await signUp('Admin');
    const p = { id: wsA.id };
    await joinByInvitation({ inviter: owner, workspaceId: wsA.id, invitee: admin, role: 'admin' });
    // Ownership is never handed out by link: the role is not one an invitation can carry.
    const ownerInvite = await call(invitations.POST, 'POST', { token: admin.token, params: p, body: { email: outsider.email, role: 'owner' } });
    expect(ownerInvite.status).toBe(422);
    expect(ownerInvite.body.error.fields.role).toBeTruthy();
    expect((await call(memberOne.PATCH, 'PATCH', { token: admin.token, params: { ...p, userId: owner.id }, body: { role: 'member' } })).status).toBe(403);
    const promoted = await call(memberOne.PATCH, 'PATCH', { token: admin.token, params: { ...p, userId: plainMember.id }, body: { role: 'admin' } });
    expect(promoted.status).toBe(200);
    expect(promoted.body.member.role).toBe('admin');
    expect((await call(memberOne.PATCH, 'PATCH', { token: owner.token, params: { ...p, userId: plainMember.id }, body: { role: 'member' } })).status).toBe(200);
    expect((await call(memberOne.DELETE, 'DELETE', { token: admin.token, params: { ...p, userId: admin.id } })).status).toBe(204);
  });

  test('the last owner can be neither demoted nor removed', async () => {
    const p = { id: wsA.id, userId: owner.id };
    const demote = await call(memberOne.PATCH, 'PATCH', { token: owner.token, params: p, body: { role: 'admin' } });
    expect(demote.status).toBe(409);
    expect((await call(memberOne.DELETE, 'DELETE', { token: owner.token, params: p })).status).toBe(409);
  });
});

describe('bad input changes nothing', () => {
  test('invalid JSON is 400, schema violations are 422 with field messages', async () => {
    const bad = await call(workspaces.POST, 'POST', { token: owner.token, rawBody: '{nope' });
    expect(bad.status).toBe(400);
    const invalid = await call(workspaces.POST, 'POST', { token: owner.token, body: { name: '', slug: 'A B', issue_prefix: 'x' } });
    expect(invalid.status).toBe(422);
    expect(Object.keys(invalid.body.error.fields).sort()).toEqual(['issue_prefix', 'name', 'slug']);
    const list = await call(me.GET, 'GET', { token: owner.token });
    expect(list.body.workspaces).toHaveLength(1);
  });

  test('a taken slug is a 409 on the slug field', async () => {
    const res = await call(workspaces.POST, 'POST', { token: outsider.token, body: { name: 'Dup', slug: 'alpha-team', issue_prefix: 'DUP' } });
    expect(res.status).toBe(409);
    expect(res.body.error.fields.slug).toBeTruthy();
  });

  test("inviting a malformed email is a 422 on the email field; inviting a member's email is 409", async () => {
    const malformed = await call(invitations.POST, 'POST', { token: owner.token, params: { id: wsA.id }, body: { email: 'ghost-at-example.com' } });
    expect(malformed.status).toBe(422);
    expect(malformed.body.error.fields.email).toBeTruthy();
    const twice = await call(invitations.POST, 'POST', { token: owner.token, params: { id: wsA.id }, body: { email: plainMember.email } });
    expect(twice.status).toBe(409);
  });

  test('agent runtime validation', async () => {
    const p = { id: wsA.id };
    // Model keys are stored sealed: saving one needs the server's secret key.
    const previousKey = process.env.LARK_SECRET_KEY;
    process.env.LARK_SECRET_KEY = randomBytes(32).toString('base64');
    resetEnvForTests();
    const base_url = 'https://models.example.com/v1';
    try {
      const noKey = await call(agents.POST, 'POST', { token: owner.token, params: p, body: { name: 'GPT', avatar_color: '#123456', runtime: { kind: 'openai', base_url, model: 'm' } } });
      expect(noKey.status).toBe(422);
      const badColour = await call(agents.POST, 'POST', { token: owner.token, params: p, body: { name: 'X', avatar_color: 'red' } });
      expect(badColour.status).toBe(422);
      const created = await call(agents.POST, 'POST', { token: owner.token, params: p, body: { name: 'GPT', avatar_color: '#123456', runtime: { kind: 'openai', base_url, model: 'm', api_key: 'sk-secret-value' } } });
      expect(created.status).toBe(201);
      expect(JSON.stringify(created.body)).not.toContain('sk-secret-value');
      expect(created.body.agent.runtime).toEqual({ kind: 'openai', base_url, model: 'm', stream: false, has_api_key: true });
      // Changing the model without resending the key keeps the stored key.
      const kept = await call(agentOne.PATCH, 'PATCH', { token: owner.token, params: { ...p, agentId: created.body.agent.id }, body: { runtime: { kind: 'openai', base_url, model: 'm2' } } });
      expect(kept.status).toBe(200);
      expect(kept.body.agent.runtime).toMatchObject({ model: 'm2', has_api_key: true });
    } finally {
      if (previousKey === undefined) delete process.env.LARK_SECRET_KEY;
      else process.env.LARK_SECRET_KEY = previousKey;
      resetEnvForTests();
    }
  });

  test('echo delay: stored, shown, kept when the runtime is resent without it; bad values are 422 and change nothing', async () => {
    const p = { id: wsA.id };
    const created = await call(agents.POST, 'POST', { token: plainMember.token, params: p, body: { name: 'Slow', avatar_color: '#445566', runtime: { kind: 'echo', delay_ms: 2000 } } });
    expect(created.status).toBe(201);
    expect(created.body.agent.runtime).toEqual({ kind: 'echo', delay_ms: 2000 });
    const one = { ...p, agentId: created.body.agent.id };
    const [row] = await t.db.select().from(agentTable).where(eq(agentTable.id, one.agentId));
    expect(row).toMatchObject({ runtimeKind: 'echo', runtimeConfig: { delayMs: 2000 } });
    expect((await call(agentOne.GET, 'GET', { token: plainMember.token, params: one })).body.agent.runtime).toEqual({ kind: 'echo', delay_ms: 2000 });

    for (const delay_ms of [-1, 60_001, 1.5, '100']) {
      const bad = await call(agentOne.PATCH, 'PATCH', { token: plainMember.token, params: one, body: { name: 'Renamed', runtime: { kind: 'echo', delay_ms } } });
      expect(bad.status).toBe(422);
      expect(bad.body.error.code).toBe('validation_failed');
      expect(bad.body.error.fields['runtime.delay_ms']).toMatch(/Delay/);
    }
    const unchanged = (await call(agentOne.GET, 'GET', { token: plainMember.token, params: one })).body.agent;
    expect(unchanged).toMatchObject({ name: 'Slow', runtime: { kind: 'echo', delay_ms: 2000 } });

    // A form that knows nothing of the delay resends `{ kind: 'echo' }`: the delay stays.
    const resent = await call(agentOne.PATCH, 'PATCH', { token: plainMember.token, params: one, body: { name: 'Slower', runtime: { kind: 'echo' } } });
    expect(resent.status).toBe(200);
    expect(resent.body.agent).toMatchObject({ name: 'Slower', runtime: { kind: 'echo', delay_ms: 2000 } });
    const instant = await call(agentOne.PATCH, 'PATCH', { token: plainMember.token, params: one, body: { runtime: { kind: 'echo', delay_ms: 0 } } });
    expect(instant.body.agent.runtime).toEqual({ kind: 'echo' });
    const [after] = await t.db.select().from(agentTable).where(eq(agentTable.id, one.agentId));
    expect(after.runtimeConfig).toEqual({});
  });

  test('an empty message is rejected and writes nothing', async () => {
    const p = { id: wsA.id, sessionId: sessionA.id };
    const before = (await call(messages.GET, 'GET', { token: owner.token, params: p })).body.messages.length;
    const res = await call(messages.POST, 'POST', { token: owner.token, params: p, body: { content: '   ' } });
    expect(res.status).toBe(422);
    expect((await call(messages.GET, 'GET', { token: owner.token, params: p })).body.messages.length).toBe(before);
  });
});

describe('chat', () => {
  test('sending to an echo agent enqueues a task; an offline agent reports agent_offline; archived refuses', async () => {
    const p = { id: wsA.id };
    const sent = await call(messages.POST, 'POST', { token: owner.token, params: { ...p, sessionId: sessionA.id }, body: { content: 'hello' } });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ outcome: 'enqueued', task: { status: 'queued' }, message: { role: 'user', content: 'hello' } });

    const offline = (await call(agents.POST, 'POST', { token: owner.token, params: p, body: { name: 'Sleepy', avatar_color: '#222222', runtime: null } })).body.agent;
    const s2 = (await call(sessions.POST, 'POST', { token: owner.token, params: p, body: { agent_id: offline.id } })).body.session;
    const off = await call(messages.POST, 'POST', { token: owner.token, params: { ...p, sessionId: s2.id }, body: { content: 'anyone?' } });
    expect(off.status).toBe(201);
    expect(off.body).toMatchObject({ outcome: 'agent_offline', task: null });

    expect((await call(archive.POST, 'POST', { token: owner.token, params: { ...p, agentId: offline.id } })).status).toBe(200);
    const archived = await call(messages.POST, 'POST', { token: owner.token, params: { ...p, sessionId: s2.id }, body: { content: 'still there?' } });
    expect(archived.status).toBe(409);
    expect(archived.body.error.code).toBe('agent_archived');
    const history = await call(messages.GET, 'GET', { token: owner.token, params: { ...p, sessionId: s2.id } });
    expect(history.body.messages.map((m: { content: string }) => m.content)).toEqual(['anyone?']);
    expect((await call(sessions.POST, 'POST', { token: owner.token, params: p, body: { agent_id: offline.id } })).status).toBe(409);
  });

  test("sessions are private to their creator", async () => {
    const res = await call(sessionOne.GET, 'GET', { token: plainMember.token, params: { id: wsA.id, sessionId: sessionA.id } });
    expect(res.status).toBe(404);
  });
});

describe('issues', () => {
  test('20 concurrent creates get 20 distinct, consecutive numbers', async () => {
    const fresh = await createWorkspace(owner, 'gamma-team', 'GAM');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call(issues.POST, 'POST', { token: owner.token, params: { id: fresh.id }, body: { title: `Issue ${i}` } })),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    const numbers = results.map((r) => r.body.issue.number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(new Set(results.map((r) => r.body.issue.identifier)).size).toBe(20);
    expect(results[0].body.issue.identifier).toMatch(/^GAM-\d+$/);
    expect(results[0].body.issue.origin_type).toBe('web');
  });
});

describe('membership removal', () => {
  test('a removed member loses access at once', async () => {
    const temp = await signUp('Temp');
    await joinByInvitation({ inviter: owner, workspaceId: wsA.id, invitee: temp });
    expect((await call(ws.GET, 'GET', { token: temp.token, params: { id: wsA.id } })).status).toBe(200);
    expect((await call(memberOne.DELETE, 'DELETE', { token: owner.token, params: { id: wsA.id, userId: temp.id } })).status).toBe(204);
    expect((await call(ws.GET, 'GET', { token: temp.token, params: { id: wsA.id } })).status).toBe(404);
  });
});
