import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import * as workspaces from '@/app/api/workspaces/route';
import * as issueOne from '@/app/api/workspaces/[id]/issues/[issueId]/route';
import { agent, issue, larkInstallation, larkUserBinding } from '@/server/db/schema';
import { dispatchInboundEvent, type DispatcherDeps } from '@/server/lark/inbound/dispatcher';
import { call, joinByInvitation, signUp, type TestUser } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';
import { seedAgent } from '../seed';

// `/issue` sent to a bot in Lark records where it was asked, and the issue's API view carries what
// the detail page needs to link back: the chat and its brand for everyone, the web conversation
// for the one member who may open it.

let t: TestDatabase;
let owner: TestUser;
let teammate: TestUser;
let ws: { id: string };
let installation: { id: string; appId: string };
const tenantKey = 'tenant_origin';
const senderOpenId = 'ou_teammate';

beforeAll(async () => {
  t = await useTestDatabase();
  owner = await signUp('Owner');
  teammate = await signUp('Teammate');
  ws = (await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Origins', slug: 'lark-origins', issue_prefix: 'ORI' } })).body.workspace;
  await joinByInvitation({ inviter: owner, workspaceId: ws.id, invitee: teammate });
  const a = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: owner.id, name: 'Echo' });
  const appId = `cli_${randomBytes(6).toString('hex')}`;
  // A bot of the Lark (international) brand, so the link must not default to Feishu.
  const [row] = await t.db
    .insert(larkInstallation)
    .values({ workspaceId: ws.id, agentId: a.id, appId, appSecretCiphertext: 'sealed', botOpenId: 'ou_bot', installerUserId: owner.id, region: 'lark' })
    .returning({ id: larkInstallation.id });
  installation = { id: row.id, appId };
  await t.db.insert(larkUserBinding).values({ workspaceId: ws.id, installationId: installation.id, userId: teammate.id, larkOpenId: senderOpenId });
});
afterAll(async () => {
  await t?.drop();
});

const deps = (): DispatcherDeps => ({ db: t.db, logger: pino({ level: 'silent' }), appUrl: 'http://localhost:3999' });

/** A Lark v2 message event as the platform sends it. */
function envelope(input: { chatId: string; text: string }) {
  return JSON.stringify({
    schema: '2.0',
    header: { event_id: `ev_${randomBytes(6).toString('hex')}`, event_type: 'im.message.receive_v1', create_time: String(Date.now()), token: '', app_id: installation.appId, tenant_key: tenantKey },
    event: {
      sender: { sender_id: { open_id: senderOpenId, union_id: 'on_teammate', user_id: 'u_teammate' }, sender_type: 'user', tenant_key: tenantKey },
      message: {
        message_id: `om_${randomBytes(6).toString('hex')}`,
        chat_id: input.chatId,
        chat_type: 'p2p',
        message_type: 'text',
        content: JSON.stringify({ text: input.text }),
        create_time: String(Date.now()),
        mentions: [],
      },
    },
  });
}

async function sendIssueCommand(chatId: string, text: string) {
  const res = await dispatchInboundEvent(deps(), { appId: installation.appId, payload: envelope({ chatId, text }) });
  expect(res).toMatchObject({ ack: 200, result: { outcome: 'issue_created' } });
  return (res.result as { issueId: string }).issueId;
}

test('/issue from Lark records its chat, and the detail view links back to it', async () => {
  const issueId = await sendIssueCommand('oc_origin_chat', '/issue Export is broken\nThe CSV is empty');

  const [row] = await t.db.select().from(issue).where(eq(issue.id, issueId));
  expect(row).toMatchObject({ originType: 'lark_chat', originLarkInstallationId: installation.id, originLarkChatId: 'oc_origin_chat', creatorUserId: teammate.id });
  expect(row.originChatSessionId).toBeTruthy();

  // The session of a DM belongs to the person who wrote it: they get the web conversation too.
  const asSender = await call(issueOne.GET, 'GET', { token: teammate.token, params: { id: ws.id, issueId } });
  expect(asSender.status).toBe(200);
  expect(asSender.body.issue).toMatchObject({
    title: 'Export is broken',
    description: 'The CSV is empty',
    origin_type: 'lark_chat',
    origin: { lark_chat: { chat_id: 'oc_origin_chat', region: 'lark' }, chat_session_id: row.originChatSessionId },
  });

  // Other members see the Lark chat but not the id of a conversation that is not theirs.
  const asOwner = await call(issueOne.GET, 'GET', { token: owner.token, params: { id: ws.id, issueId } });
  expect(asOwner.body.issue.origin).toEqual({
    lark_chat: { chat_id: 'oc_origin_chat', region: 'lark', url: 'https://applink.larksuite.com/client/chat/open?openChatId=oc_origin_chat' },
    chat_session_id: null,
  });
});

test('an issue made on the web has no Lark origin', async () => {
  const [web] = await t.db.insert(issue).values({ workspaceId: ws.id, number: 999, title: 'Web', creatorUserId: owner.id }).returning();
  const res = await call(issueOne.GET, 'GET', { token: owner.token, params: { id: ws.id, issueId: web.id } });
  expect(res.body.issue.origin).toEqual({ lark_chat: null, chat_session_id: null });
  // The schema keeps a web issue from claiming a Lark chat.
  await expect(t.db.update(issue).set({ originLarkInstallationId: installation.id, originLarkChatId: 'oc_x' }).where(eq(issue.id, web.id))).rejects.toMatchObject({
    cause: expect.objectContaining({ constraint: 'issue_lark_origin_only_for_lark' }),
  });
});

test('when the bot and its agent are removed, the issue stays and forgets the chat', async () => {
  const issueId = await sendIssueCommand('oc_origin_chat_2', '/issue Keep me');
  const [{ agentId }] = await t.db.select({ agentId: larkInstallation.agentId }).from(larkInstallation).where(eq(larkInstallation.id, installation.id));
  await t.db.delete(agent).where(eq(agent.id, agentId));
  const res = await call(issueOne.GET, 'GET', { token: teammate.token, params: { id: ws.id, issueId } });
  expect(res.status).toBe(200);
  expect(res.body.issue).toMatchObject({ title: 'Keep me', origin_type: 'lark_chat', origin: { lark_chat: null, chat_session_id: null } });
});
