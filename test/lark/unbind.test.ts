import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as workspaces from '@/app/api/workspaces/route';
import * as mine from '@/app/api/workspaces/[id]/lark/linked-accounts/route';
import * as mineOne from '@/app/api/workspaces/[id]/lark/linked-accounts/[bindingId]/route';
import * as ofBot from '@/app/api/workspaces/[id]/lark/installations/[installationId]/linked-accounts/route';
import * as ofBotOne from '@/app/api/workspaces/[id]/lark/installations/[installationId]/linked-accounts/[bindingId]/route';
import { larkLinkedAccountsResponse } from '@/server/contract/lark';
import { larkInboundAudit, larkUserBinding } from '@/server/db/schema';
import { AppError } from '@/server/errors';
import { listInstallationLarkAccounts, listMyLarkAccounts, shortOpenId } from '@/server/lark/binding/linked-accounts';
import { findLarkBinding, unbindBySelf, unbindLarkUser } from '@/server/lark/binding/unbind';
import { call, joinByInvitation, signUp, type TestUser } from '../api';
import type { TestDatabase } from '../db';
import { openIdOf, waitFor, type Sim } from './sim';
import { startLarkHarness, type LarkBot, type LarkHarness } from './worker-harness';

let lark: LarkHarness;
let t: TestDatabase;
let sim: Sim;
let owner: TestUser;
let admin: TestUser;
let amy: TestUser;
let ben: TestUser;
let outsider: TestUser;
let wsId: string;
let otherWsId: string;
let echo: LarkBot;
let second: LarkBot;
let otherBot: LarkBot;

/** Links a new Lark user to a member of the bot's workspace; returns the link's id. */
async function link(bot: LarkBot, member: TestUser, larkName: string | null = null): Promise<{ id: string; larkUserId: string; openId: string }> {
  const larkUser = await lark.newUser(larkName ?? 'Someone');
  const row = await lark.bind(bot, larkUser.id, member, larkName);
  return { id: row.id, larkUserId: larkUser.id, openId: row.larkOpenId };
}

const exists = async (bindingId: string) => (await t.db.select().from(larkUserBinding).where(eq(larkUserBinding.id, bindingId))).length === 1;
const actor = (u: TestUser, role: 'owner' | 'admin' | 'member') => ({ userId: u.id, role });

async function expectAppError(p: Promise<unknown>, code: string) {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
}

beforeAll(async () => {
  lark = await startLarkHarness();
  ({ t, sim } = lark);
  owner = await signUp('Owner');
  admin = await signUp('Admin');
  amy = await signUp('Amy');
  ben = await signUp('Ben');
  outsider = await signUp('Outsider');
  wsId = (await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Acme', slug: 'acme-unbind', issue_prefix: 'UNB' } })).body.workspace.id;
  otherWsId = (await call(workspaces.POST, 'POST', { token: outsider.token, body: { name: 'Elsewhere', slug: 'elsewhere-unbind', issue_prefix: 'ELS' } })).body.workspace.id;
  await joinByInvitation({ inviter: owner, workspaceId: wsId, invitee: admin, role: 'admin' });
  await joinByInvitation({ inviter: owner, workspaceId: wsId, invitee: amy });
  await joinByInvitation({ inviter: owner, workspaceId: wsId, invitee: ben });
  echo = await lark.installBot({ workspaceId: wsId, installer: owner, name: 'Echo' });
  second = await lark.installBot({ workspaceId: wsId, installer: owner, name: 'Second' });
  otherBot = await lark.installBot({ workspaceId: otherWsId, installer: outsider, name: 'Other' });
}, 60_000);

afterAll(() => lark?.close());

describe('unbindLarkUser', () => {
  test('a member removes their own link', async () => {
    const l = await link(echo, amy);
    expect(await unbindLarkUser(t.db, { workspaceId: wsId, bindingId: l.id, actor: actor(amy, 'member') })).toEqual({ bindingId: l.id, installationId: echo.installationId, userId: amy.id });
    expect(await exists(l.id)).toBe(false);
  });

  test("a member may not remove someone else's link: forbidden, nothing changes", async () => {
    const l = await link(echo, ben);
    await expectAppError(unbindLarkUser(t.db, { workspaceId: wsId, bindingId: l.id, actor: actor(amy, 'member') }), 'forbidden');
    // Their own list does not hold it at all.
    await expectAppError(unbindLarkUser(t.db, { workspaceId: wsId, bindingId: l.id, actor: actor(amy, 'member'), ownOnly: true }), 'not_found');
    expect(await exists(l.id)).toBe(true);
  });

  test('an owner or admin removes anyone’s link of their workspace', async () => {
    const a = await link(echo, ben);
    const b = await link(second, amy);
    await unbindLarkUser(t.db, { workspaceId: wsId, bindingId: a.id, actor: actor(admin, 'admin'), installationId: echo.installationId });
    await unbindLarkUser(t.db, { workspaceId: wsId, bindingId: b.id, actor: actor(owner, 'owner') });
    expect(await exists(a.id)).toBe(false);
    expect(await exists(b.id)).toBe(false);
  });

  test("another workspace's link, or a link of another bot, is not found and stays", async () => {
    const foreign = await link(otherBot, outsider);
    await expectAppError(unbindLarkUser(t.db, { workspaceId: wsId, bindingId: foreign.id, actor: actor(owner, 'owner') }), 'not_found');
    const l = await link(echo, ben);
    await expectAppError(unbindLarkUser(t.db, { workspaceId: wsId, bindingId: l.id, actor: actor(owner, 'owner'), installationId: second.installationId }), 'not_found');
    expect(await exists(foreign.id)).toBe(true);
    expect(await exists(l.id)).toBe(true);
  });
});

describe('unbindBySelf', () => {
  test('removes the link only for the Lark user it belongs to, on that bot', async () => {
    const l = await link(echo, amy);
    const stranger = await lark.newUser('Stranger');
    const strangerOpenId = await openIdOf(sim, echo.appId, stranger.id);
    expect(await unbindBySelf(t.db, { installationId: echo.installationId, larkOpenId: strangerOpenId, bindingId: l.id })).toEqual({ outcome: 'not_found' });
    expect(await unbindBySelf(t.db, { installationId: second.installationId, larkOpenId: l.openId, bindingId: l.id })).toEqual({ outcome: 'not_found' });
    expect(await exists(l.id)).toBe(true);
    expect(await findLarkBinding(t.db, { installationId: echo.installationId, larkOpenId: l.openId })).toEqual({ bindingId: l.id, workspaceId: wsId, workspaceName: 'Acme', userId: amy.id });
    expect(await unbindBySelf(t.db, { installationId: echo.installationId, larkOpenId: l.openId, bindingId: l.id })).toEqual({
      outcome: 'removed',
      workspaceId: wsId,
      workspaceName: 'Acme',
      userId: amy.id,
    });
    expect(await exists(l.id)).toBe(false);
    // A second press of the same button finds nothing.
    expect(await unbindBySelf(t.db, { installationId: echo.installationId, larkOpenId: l.openId, bindingId: l.id })).toEqual({ outcome: 'not_found' });
    expect(await findLarkBinding(t.db, { installationId: echo.installationId, larkOpenId: l.openId })).toBeNull();
  });
});

describe('listing', () => {
  test("a member's own links name the bot and the Lark account (its name, else a shortened open_id)", async () => {
    await t.db.delete(larkUserBinding);
    const named = await link(echo, amy, 'Amy Wang');
    const unnamed = await link(second, amy);
    await link(echo, ben, 'Ben Li');
    const accounts = await listMyLarkAccounts(t.db, { workspaceId: wsId, userId: amy.id });
    expect(accounts.map((a) => a.id).sort()).toEqual([named.id, unnamed.id].sort());
    const first = accounts.find((a) => a.id === named.id)!;
    expect(first).toMatchObject({ installation_id: echo.installationId, bot: { agent_id: echo.agentId, name: 'Echo', status: 'active', region: 'feishu' }, lark_user: { name: 'Amy Wang' }, member: { user_id: amy.id, name: 'Amy' } });
    const other = accounts.find((a) => a.id === unnamed.id)!;
    expect(other.lark_user).toEqual({ name: null, open_id_hint: shortOpenId(unnamed.openId) });
    expect(other.lark_user.open_id_hint).not.toBe(unnamed.openId);
    expect(other.lark_user.open_id_hint.startsWith(unnamed.openId.slice(0, 8))).toBe(true);
    // Nobody's links in another workspace.
    expect(await listMyLarkAccounts(t.db, { workspaceId: otherWsId, userId: amy.id })).toEqual([]);
  });

  test("a bot's links, for admins; another workspace's bot is not found", async () => {
    const accounts = await listInstallationLarkAccounts(t.db, { workspaceId: wsId, installationId: echo.installationId });
    expect(accounts.map((a) => a.member.name).sort()).toEqual(['Amy', 'Ben']);
    await expectAppError(listInstallationLarkAccounts(t.db, { workspaceId: wsId, installationId: otherBot.installationId }), 'not_found');
  });
});

describe('routes', () => {
  test('members list and unlink their own accounts; someone else’s is 404 and stays', async () => {
    await t.db.delete(larkUserBinding);
    const amys = await link(echo, amy, 'Amy Wang');
    const bens = await link(echo, ben, 'Ben Li');
    const listed = await call(mine.GET, 'GET', { token: amy.token, params: { id: wsId } });
    expect(listed.status).toBe(200);
    expect(larkLinkedAccountsResponse.safeParse({ accounts: listed.body.accounts.map((a: { bound_at: string }) => ({ ...a, bound_at: new Date(a.bound_at) })) }).success).toBe(true);
    expect(listed.body.accounts.map((a: { id: string }) => a.id)).toEqual([amys.id]);
    expect(listed.body.accounts[0]).toMatchObject({ bot: { name: 'Echo' }, lark_user: { name: 'Amy Wang' } });

    const notMine = await call(mineOne.DELETE, 'DELETE', { token: amy.token, params: { id: wsId, bindingId: bens.id } });
    expect(notMine.status).toBe(404);
    expect(notMine.body.error.code).toBe('not_found');
    // Even an admin's own list holds only their own links.
    expect((await call(mineOne.DELETE, 'DELETE', { token: owner.token, params: { id: wsId, bindingId: bens.id } })).status).toBe(404);
    expect(await exists(bens.id)).toBe(true);
    expect((await call(mineOne.DELETE, 'DELETE', { token: amy.token, params: { id: wsId, bindingId: 'not-a-uuid' } })).status).toBe(404);
    // An outsider cannot reach the workspace at all.
    expect((await call(mine.GET, 'GET', { token: outsider.token, params: { id: wsId } })).status).toBe(404);
    expect((await call(mineOne.DELETE, 'DELETE', { token: outsider.token, params: { id: wsId, bindingId: amys.id } })).status).toBe(404);
    expect(await exists(amys.id)).toBe(true);

    expect((await call(mineOne.DELETE, 'DELETE', { token: amy.token, params: { id: wsId, bindingId: amys.id } })).status).toBe(204);
    expect(await exists(amys.id)).toBe(false);
    expect((await call(mine.GET, 'GET', { token: amy.token, params: { id: wsId } })).body.accounts).toEqual([]);
  });

  test("a bot's linked accounts: owners and admins list and remove them; members get 403 and nothing changes", async () => {
    await t.db.delete(larkUserBinding);
    const amys = await link(echo, amy, 'Amy Wang');
    const bens = await link(second, ben);
    const foreign = await link(otherBot, outsider);
    const params = (installationId: string, bindingId?: string) => ({ id: wsId, installationId, ...(bindingId && { bindingId }) });

    const denied = await call(ofBot.GET, 'GET', { token: amy.token, params: params(echo.installationId) });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('forbidden');
    expect((await call(ofBotOne.DELETE, 'DELETE', { token: amy.token, params: params(echo.installationId, amys.id) })).status).toBe(403);
    expect(await exists(amys.id)).toBe(true);

    const listed = await call(ofBot.GET, 'GET', { token: admin.token, params: params(echo.installationId) });
    expect(listed.status).toBe(200);
    expect(listed.body.accounts).toHaveLength(1);
    expect(listed.body.accounts[0]).toMatchObject({ id: amys.id, member: { user_id: amy.id, name: 'Amy', email: amy.email }, lark_user: { name: 'Amy Wang' } });
    expect((await call(ofBot.GET, 'GET', { token: admin.token, params: params(otherBot.installationId) })).status).toBe(404);

    // A link of another bot, or of another workspace, is not found through this bot, and stays.
    expect((await call(ofBotOne.DELETE, 'DELETE', { token: admin.token, params: params(echo.installationId, bens.id) })).status).toBe(404);
    expect((await call(ofBotOne.DELETE, 'DELETE', { token: owner.token, params: params(echo.installationId, foreign.id) })).status).toBe(404);
    expect((await call(ofBotOne.DELETE, 'DELETE', { token: owner.token, params: params(otherBot.installationId, foreign.id) })).status).toBe(404);
    expect(await exists(bens.id)).toBe(true);
    expect(await exists(foreign.id)).toBe(true);

    expect((await call(ofBotOne.DELETE, 'DELETE', { token: admin.token, params: params(second.installationId, bens.id) })).status).toBe(204);
    expect(await exists(bens.id)).toBe(false);
    expect(await exists(amys.id)).toBe(true);
  });
});

describe('through Lark', () => {
  beforeAll(async () => {
    await lark.startWorker({ nodeId: 'unbind-test' });
    await lark.waitConnected(echo, 'Echo');
  }, 30_000);

  test('after unlinking on the web, the next Lark message gets the binding prompt and is not stored', async () => {
    const l = await link(echo, ben, 'Ben Li');
    const dm = (text: string) => lark.dm(echo, l.larkUserId, text);

    const first = await dm('hello while linked');
    await waitFor(async () => (await lark.botMessages(first.chat_id)).length === 1, 15_000, 'the answer while linked');
    expect((await lark.botMessages(first.chat_id))[0].content.text).toBe('You said: "hello while linked"');

    expect((await call(mineOne.DELETE, 'DELETE', { token: ben.token, params: { id: wsId, bindingId: l.id } })).status).toBe(204);

    const after = await dm('hello after unlinking');
    await waitFor(async () => (await lark.botMessages(first.chat_id)).length === 2, 15_000, 'the binding prompt');
    expect(JSON.stringify((await lark.botMessages(first.chat_id))[1].content)).toContain('/lark/bind?token=');
    const stored = await t.db.execute(sql`SELECT count(*)::int AS n FROM chat_message WHERE content = 'hello after unlinking'`);
    expect(stored.rows[0]).toEqual({ n: 0 });
    const audit = await t.db.select().from(larkInboundAudit).where(and(eq(larkInboundAudit.installationId, echo.installationId), eq(larkInboundAudit.larkMessageId, after.message_id)));
    expect(audit.map((a) => a.dropReason)).toEqual(['unbound_user']);
  });
});
