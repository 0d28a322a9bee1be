import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as workspaces from '@/app/api/workspaces/route';
import * as agents from '@/app/api/workspaces/[id]/agents/route';
import * as archive from '@/app/api/workspaces/[id]/agents/[agentId]/archive/route';
import * as issues from '@/app/api/workspaces/[id]/issues/route';
import * as issueOne from '@/app/api/workspaces/[id]/issues/[issueId]/route';
import * as memberOne from '@/app/api/workspaces/[id]/members/[userId]/route';
import { agent, issue } from '@/server/db/schema';
import { call, joinByInvitation, signUp, type TestUser } from '../api';
import { openEventStream, until } from '../event-stream';
import { useTestDatabase, type TestDatabase } from '../db';

// Editing and filtering a workspace's issues through the real routes on a real database: who may,
// what input is refused (and then changes nothing), tenant isolation, live events, and what the
// schema does when an assignee leaves.

let t: TestDatabase;
let owner: TestUser;
let teammate: TestUser;
let outsider: TestUser;
let wsA: { id: string };
let wsB: { id: string };
let agentA: { id: string };
let archivedAgent: { id: string };
let agentB: { id: string };
let issueB: { id: string };

async function createWorkspace(user: TestUser, slug: string, prefix: string) {
  const res = await call(workspaces.POST, 'POST', { token: user.token, body: { name: slug, slug, issue_prefix: prefix } });
  expect(res.status).toBe(201);
  return res.body.workspace as { id: string };
}

async function createAgent(user: TestUser, wsId: string, name: string) {
  const res = await call(agents.POST, 'POST', { token: user.token, params: { id: wsId }, body: { name, avatar_color: '#336699', runtime: { kind: 'echo' } } });
  expect(res.status).toBe(201);
  return res.body.agent as { id: string };
}

async function newIssue(title: string, user = owner) {
  const res = await call(issues.POST, 'POST', { token: user.token, params: { id: wsA.id }, body: { title } });
  expect(res.status).toBe(201);
  return res.body.issue as { id: string; updated_at: string };
}

const getIssue = (id: string, user = owner) => call(issueOne.GET, 'GET', { token: user.token, params: { id: wsA.id, issueId: id } });
const patch = (id: string, body: unknown, user = owner) => call(issueOne.PATCH, 'PATCH', { token: user.token, params: { id: wsA.id, issueId: id }, body });
const list = (query: string, user = owner) => call(issues.GET, 'GET', { token: user.token, params: { id: wsA.id }, query });
const titles = (res: { body: { issues: Array<{ title: string }> } }) => res.body.issues.map((i) => i.title).sort();

beforeAll(async () => {
  t = await useTestDatabase();
  owner = await signUp('Owner');
  teammate = await signUp('Teammate');
  outsider = await signUp('Outsider');
  wsA = await createWorkspace(owner, 'issues-alpha', 'ALP');
  wsB = await createWorkspace(outsider, 'issues-beta', 'BET');
  await joinByInvitation({ inviter: owner, workspaceId: wsA.id, invitee: teammate });
  agentA = await createAgent(owner, wsA.id, 'Triage');
  archivedAgent = await createAgent(owner, wsA.id, 'Retired');
  expect((await call(archive.POST, 'POST', { token: owner.token, params: { id: wsA.id, agentId: archivedAgent.id } })).status).toBe(200);
  agentB = await createAgent(outsider, wsB.id, 'Elsewhere');
  issueB = (await call(issues.POST, 'POST', { token: outsider.token, params: { id: wsB.id }, body: { title: 'Beta issue' } })).body.issue;
});
afterAll(async () => t?.drop());

describe('who may edit', () => {
  test('signed out: 401 on list, read and edit', async () => {
    const i = await newIssue('Signed out');
    expect((await call(issues.GET, 'GET', { params: { id: wsA.id } })).status).toBe(401);
    expect((await call(issueOne.GET, 'GET', { params: { id: wsA.id, issueId: i.id } })).status).toBe(401);
    const res = await call(issueOne.PATCH, 'PATCH', { params: { id: wsA.id, issueId: i.id }, body: { title: 'x' } });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
    expect((await getIssue(i.id)).body.issue.title).toBe('Signed out');
  });

  test('a non-member gets 404 and changes nothing', async () => {
    const i = await newIssue('Private to alpha');
    const res = await call(issueOne.PATCH, 'PATCH', { token: outsider.token, params: { id: wsA.id, issueId: i.id }, body: { title: 'Taken over' } });
    expect(res.status).toBe(404);
    expect((await call(issues.GET, 'GET', { token: outsider.token, params: { id: wsA.id } })).status).toBe(404);
    expect((await getIssue(i.id)).body.issue.title).toBe('Private to alpha');
  });

  test("any member may edit anyone's issue", async () => {
    const i = await newIssue('Owner wrote this');
    const res = await patch(i.id, { title: 'Teammate improved it', status: 'in_progress' }, teammate);
    expect(res.status).toBe(200);
    expect(res.body.issue).toMatchObject({ title: 'Teammate improved it', status: 'in_progress', creator: { id: owner.id } });
  });
});

describe('editing', () => {
  test('title, description, status and assignee change, and updated_at moves on', async () => {
    const i = await newIssue('Rough title');
    const res = await patch(i.id, { title: '  Clear title  ', description: 'Steps to reproduce', status: 'done', assignee: { type: 'member', id: teammate.id } });
    expect(res.status).toBe(200);
    expect(res.body.issue).toMatchObject({
      title: 'Clear title',
      description: 'Steps to reproduce',
      status: 'done',
      assignee: { type: 'member', id: teammate.id, name: 'Teammate' },
    });
    expect(new Date(res.body.issue.updated_at).getTime()).toBeGreaterThan(new Date(i.updated_at).getTime());
    expect((await getIssue(i.id)).body.issue).toEqual(res.body.issue);

    const toAgent = await patch(i.id, { assignee: { type: 'agent', id: agentA.id } });
    expect(toAgent.body.issue.assignee).toEqual({ type: 'agent', id: agentA.id, name: 'Triage', avatar_color: '#336699', archived: false });
    const [row] = await t.db.select().from(issue).where(eq(issue.id, i.id));
    expect(row).toMatchObject({ assigneeAgentId: agentA.id, assigneeUserId: null });

    const cleared = await patch(i.id, { assignee: null, status: 'canceled' });
    expect(cleared.body.issue).toMatchObject({ assignee: null, status: 'canceled', title: 'Clear title' });
  });

  test('an issue already assigned to an agent that is later archived can be un-assigned', async () => {
    const temp = await createAgent(owner, wsA.id, 'Soon archived');
    const i = await newIssue('Agent work');
    expect((await patch(i.id, { assignee: { type: 'agent', id: temp.id } })).status).toBe(200);
    expect((await call(archive.POST, 'POST', { token: owner.token, params: { id: wsA.id, agentId: temp.id } })).status).toBe(200);
    expect((await getIssue(i.id)).body.issue.assignee).toMatchObject({ type: 'agent', id: temp.id, archived: true });
    expect((await patch(i.id, { assignee: null })).body.issue.assignee).toBeNull();
  });
});

describe('bad input is refused and changes nothing', () => {
  const cases: Array<{ name: string; body: () => unknown; status: number; code: string; field?: string }> = [
    { name: 'unknown status', body: () => ({ status: 'blocked' }), status: 422, code: 'validation_failed', field: 'status' },
    { name: 'empty title', body: () => ({ title: '   ' }), status: 422, code: 'validation_failed', field: 'title' },
    { name: 'title too long', body: () => ({ title: 'x'.repeat(301) }), status: 422, code: 'validation_failed', field: 'title' },
    { name: 'description too long', body: () => ({ description: 'x'.repeat(50_001) }), status: 422, code: 'validation_failed', field: 'description' },
    { name: 'nothing to change', body: () => ({}), status: 422, code: 'validation_failed' },
    { name: 'a field that cannot be edited', body: () => ({ title: 'ok', number: 7 }), status: 422, code: 'validation_failed' },
    { name: 'malformed assignee', body: () => ({ assignee: { type: 'team', id: 'x' } }), status: 422, code: 'validation_failed', field: 'assignee' },
    { name: 'assignee who is no member here', body: () => ({ assignee: { type: 'member', id: outsider.id } }), status: 422, code: 'validation_failed', field: 'assignee' },
    { name: "another workspace's agent", body: () => ({ assignee: { type: 'agent', id: agentB.id } }), status: 422, code: 'validation_failed', field: 'assignee' },
    { name: 'an archived agent', body: () => ({ assignee: { type: 'agent', id: archivedAgent.id } }), status: 409, code: 'agent_archived' },
    { name: 'a valid title with an archived agent', body: () => ({ title: 'Should not stick', assignee: { type: 'agent', id: archivedAgent.id } }), status: 409, code: 'agent_archived' },
  ];

  test.each(cases)('$name', async (c) => {
    const i = await newIssue('Untouched');
    expect((await patch(i.id, { status: 'in_progress', assignee: { type: 'member', id: owner.id } })).status).toBe(200);
    const before = (await getIssue(i.id)).body.issue;
    const res = await patch(i.id, c.body());
    expect(res.status).toBe(c.status);
    expect(res.body.error.code).toBe(c.code);
    expect(res.body.error.message).not.toBe('');
    if (c.field) expect(Object.keys(res.body.error.fields).some((k) => k === c.field || k.startsWith(`${c.field}.`))).toBe(true);
    expect((await getIssue(i.id)).body.issue).toEqual(before);
  });

  test.each([
    ['status=blocked', 'status'],
    ['status=todo,', 'status'],
    ['assignee=someone', 'assignee'],
    ['assignee=member:', 'assignee'],
    ['assignee=agent:not-a-uuid', 'assignee'],
  ])('malformed filter %s', async (query, field) => {
    const res = await list(query);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
    expect(Object.keys(res.body.error.fields)).toEqual([field]);
  });
});

describe('other workspaces', () => {
  test("another workspace's issue id is 404 under this workspace, for reading and editing", async () => {
    expect((await getIssue(issueB.id)).status).toBe(404);
    const res = await patch(issueB.id, { title: 'Hijacked' });
    expect(res.status).toBe(404);
    const theirs = await call(issueOne.GET, 'GET', { token: outsider.token, params: { id: wsB.id, issueId: issueB.id } });
    expect(theirs.body.issue.title).toBe('Beta issue');
  });

  test("this workspace's issue addressed through another workspace is 404", async () => {
    const i = await newIssue('Alpha only');
    const res = await call(issueOne.PATCH, 'PATCH', { token: outsider.token, params: { id: wsB.id, issueId: i.id }, body: { title: 'Moved' } });
    expect(res.status).toBe(404);
    expect((await getIssue(i.id)).body.issue.title).toBe('Alpha only');
  });

  test('malformed issue ids are 404', async () => {
    expect((await patch('not-a-uuid', { title: 'x' })).status).toBe(404);
  });

  test('the database refuses an assignee from another workspace and two assignees at once', async () => {
    const i = await newIssue('Schema guard');
    const refusedBy = (constraint: string) => ({ cause: expect.objectContaining({ constraint }) });
    await expect(t.db.update(issue).set({ assigneeAgentId: agentB.id }).where(eq(issue.id, i.id))).rejects.toMatchObject(refusedBy('issue_assignee_agent_fk'));
    await expect(t.db.update(issue).set({ assigneeUserId: outsider.id }).where(eq(issue.id, i.id))).rejects.toMatchObject(refusedBy('issue_assignee_member_fk'));
    await expect(t.db.update(issue).set({ assigneeUserId: owner.id, assigneeAgentId: agentA.id }).where(eq(issue.id, i.id))).rejects.toMatchObject(
      refusedBy('issue_one_assignee'),
    );
  });
});

describe('filters', () => {
  test('by status and by assignee, alone and together', async () => {
    const fresh = await createWorkspace(owner, 'issues-filters', 'FIL');
    await joinByInvitation({ inviter: owner, workspaceId: fresh.id, invitee: teammate });
    const bot = await createAgent(owner, fresh.id, 'Filter bot');
    const make = async (title: string, changes: Record<string, unknown>) => {
      const created = await call(issues.POST, 'POST', { token: owner.token, params: { id: fresh.id }, body: { title } });
      const res = await call(issueOne.PATCH, 'PATCH', { token: owner.token, params: { id: fresh.id, issueId: created.body.issue.id }, body: changes });
      expect(res.status).toBe(200);
    };
    await make('mine todo', { status: 'todo', assignee: { type: 'member', id: owner.id } });
    await make('mine done', { status: 'done', assignee: { type: 'member', id: owner.id } });
    await make('teammate in progress', { status: 'in_progress', assignee: { type: 'member', id: teammate.id } });
    await make('bot todo', { status: 'todo', assignee: { type: 'agent', id: bot.id } });
    await make('nobody backlog', { status: 'backlog' });
    await make('nobody canceled', { status: 'canceled', assignee: null });
    const q = async (query: string, user = owner) => {
      const res = await call(issues.GET, 'GET', { token: user.token, params: { id: fresh.id }, query });
      expect(res.status).toBe(200);
      return titles(res);
    };
    expect(await q('')).toHaveLength(6);
    expect(await q('status=todo')).toEqual(['bot todo', 'mine todo']);
    expect(await q('status=todo,done')).toEqual(['bot todo', 'mine done', 'mine todo']);
    expect(await q('assignee=me')).toEqual(['mine done', 'mine todo']);
    expect(await q('assignee=me', teammate)).toEqual(['teammate in progress']);
    expect(await q('assignee=none')).toEqual(['nobody backlog', 'nobody canceled']);
    expect(await q(`assignee=member:${teammate.id}`)).toEqual(['teammate in progress']);
    expect(await q(`assignee=agent:${bot.id}`)).toEqual(['bot todo']);
    expect(await q('status=todo&assignee=me')).toEqual(['mine todo']);
    expect(await q(`status=done&assignee=agent:${bot.id}`)).toEqual([]);
    // Ids of other workspaces match nothing here.
    expect(await q(`assignee=agent:${agentB.id}`)).toEqual([]);
  });
});

describe('live events', () => {
  test("every edit reaches the other members' streams as issue.updated; a refused edit sends nothing", async () => {
    const stream = await openEventStream(teammate, wsA.id);
    expect(stream.status).toBe(200);
    try {
      const i = await newIssue('Watched');
      await until(() => stream.events.some((e) => e.type === 'issue.created' && e.issue_id === i.id), 'issue.created');
      const updates = () => stream.events.filter((e) => e.type === 'issue.updated' && e.issue_id === i.id).length;

      expect((await patch(i.id, { status: 'blocked' })).status).toBe(422);
      expect((await patch(i.id, { assignee: { type: 'agent', id: archivedAgent.id } })).status).toBe(409);
      expect((await patch(i.id, { status: 'in_progress' })).status).toBe(200);
      await until(() => updates() === 1, 'the status change');
      expect((await patch(i.id, { assignee: { type: 'member', id: teammate.id } })).status).toBe(200);
      await until(() => updates() === 2, 'the assignment');
      // Events are ids only; the client refetches what changed.
      expect(stream.events.find((e) => e.type === 'issue.updated')).toEqual({ type: 'issue.updated', issue_id: i.id });
    } finally {
      stream.stop();
    }
  });
});

describe('when an assignee leaves', () => {
  test('removing a member un-assigns their issues and leaves everything else', async () => {
    const leaver = await signUp('Leaver');
    await joinByInvitation({ inviter: owner, workspaceId: wsA.id, invitee: leaver });
    const i = await newIssue('Was theirs');
    const other = await newIssue('Someone else');
    expect((await patch(i.id, { status: 'in_progress', assignee: { type: 'member', id: leaver.id } })).status).toBe(200);
    expect((await patch(other.id, { assignee: { type: 'member', id: teammate.id } })).status).toBe(200);

    expect((await call(memberOne.DELETE, 'DELETE', { token: owner.token, params: { id: wsA.id, userId: leaver.id } })).status).toBe(204);

    expect((await getIssue(i.id)).body.issue).toMatchObject({ assignee: null, status: 'in_progress', title: 'Was theirs' });
    expect((await getIssue(other.id)).body.issue.assignee).toMatchObject({ type: 'member', id: teammate.id });
    // A former member can no longer be assigned.
    const res = await patch(i.id, { assignee: { type: 'member', id: leaver.id } });
    expect(res.status).toBe(422);
  });

  test('deleting an agent un-assigns its issues', async () => {
    const doomed = await createAgent(owner, wsA.id, 'Doomed');
    const i = await newIssue('Agent task');
    expect((await patch(i.id, { status: 'todo', assignee: { type: 'agent', id: doomed.id } })).status).toBe(200);
    await t.db.delete(agent).where(eq(agent.id, doomed.id));
    expect((await getIssue(i.id)).body.issue).toMatchObject({ assignee: null, status: 'todo', title: 'Agent task' });
    const [row] = await t.db.execute<{ workspace_id: string }>(sql`SELECT workspace_id FROM issue WHERE id = ${i.id}`).then((r) => r.rows);
    expect(row.workspace_id).toBe(wsA.id);
  });
});
