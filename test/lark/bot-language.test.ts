import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as workspaces from '@/app/api/workspaces/route';
import * as ws from '@/app/api/workspaces/[id]/route';
import { larkInstallation, workspace } from '@/server/db/schema';
import type { LarkIntegration } from '@/server/lark/integration';
import { botLocaleForInstallation } from '@/server/lark/outbound/bot-locale';
import { deliverOutboxRow } from '@/server/lark/outbound/deliver';
import { enqueueOutboxMessage, type OutboxBody } from '@/server/lark/outbound/outbox';
import { call, joinByInvitation, signUp, TEST_APP_URL, type TestUser } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';
import { seedAgent } from '../seed';
import { installSimBot, openIdOf, simIntegration, startSim, type Sim } from './sim';

let t: TestDatabase;
let sim: Sim;
let integration: LarkIntegration;
let owner: TestUser;
let admin: TestUser;
let plain: TestUser;
let wsId: string;
type Bot = { appId: string; installationId: string; tenantKey: string };
let feishuBot: Bot;
let larkBot: Bot;
const silent = pino({ level: 'silent' });

async function installBot(brand: 'feishu' | 'lark', name: string): Promise<Bot> {
  const tenantKey = (await sim.control('POST', '/tenants', { brand, name: `${name} Co` })).tenant_key as string;
  const a = await seedAgent(t.db, { workspaceId: wsId, ownerUserId: owner.id, name, runtimeKind: null });
  const bot = await installSimBot(t.db, sim, integration.box!, { tenantKey, workspaceId: wsId, agentId: a.id, installerUserId: owner.id, name });
  await t.db.update(larkInstallation).set({ region: brand }).where(eq(larkInstallation.id, bot.installation.id));
  return { appId: bot.appId, installationId: bot.installation.id, tenantKey };
}

/** Writes one outbox row to a new Lark user of the bot, delivers it as a worker would, and returns what the user received. */
async function deliverTo(bot: Bot, body: OutboxBody) {
  const larkUser = await sim.control<{ id: string }>('POST', '/users', { tenant_key: bot.tenantKey, name: 'Reader' });
  const openId = await openIdOf(sim, bot.appId, larkUser.id);
  const id = await enqueueOutboxMessage(t.db, {
    workspaceId: wsId,
    installationId: bot.installationId,
    target: { receiveIdType: 'open_id', receiveId: openId },
    body,
    larkOpenId: body.kind === 'binding_prompt' ? openId : undefined,
  });
  expect(await deliverOutboxRow({ db: t.db, integration, logger: silent, appUrl: TEST_APP_URL }, id!)).toBe('sent');
  const { chat_id } = await sim.control<{ chat_id: string }>('GET', `/p2p?app_id=${bot.appId}&user_id=${larkUser.id}`);
  const { messages } = await sim.control<{ messages: Array<{ sender: { type: string }; msg_type: string; content: Record<string, unknown> }> }>('GET', `/chats/${chat_id}/messages`);
  const fromBot = messages.filter((m) => m.sender.type === 'app');
  expect(fromBot).toHaveLength(1);
  return fromBot[0].msg_type === 'text' ? String(fromBot[0].content.text) : JSON.stringify(fromBot[0].content);
}

const setLocale = (user: TestUser, body: unknown) => call(ws.PATCH, 'PATCH', { token: user.token, params: { id: wsId }, body });
const storedLocale = async () => (await t.db.select({ l: workspace.larkLocale }).from(workspace).where(eq(workspace.id, wsId)))[0].l;

beforeAll(async () => {
  t = await useTestDatabase();
  sim = await startSim();
  integration = simIntegration(sim);
  owner = await signUp('Owner');
  admin = await signUp('Admin');
  plain = await signUp('Member');
  wsId = (await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Acme', slug: 'acme-language', issue_prefix: 'LNG' } })).body.workspace.id;
  await joinByInvitation({ inviter: owner, workspaceId: wsId, invitee: admin, role: 'admin' });
  await joinByInvitation({ inviter: owner, workspaceId: wsId, invitee: plain });
  feishuBot = await installBot('feishu', 'Feishu Echo');
  larkBot = await installBot('lark', 'Lark Echo');
}, 60_000);

afterAll(async () => {
  await sim?.close();
  await t?.drop();
});

describe('the language setting', () => {
  test("is 'auto' for a new workspace and shown by the workspace API", async () => {
    const res = await call(ws.GET, 'GET', { token: plain.token, params: { id: wsId } });
    expect(res.status).toBe(200);
    expect(res.body.workspace.lark_locale).toBe('auto');
  });

  test('a member may not change it: 403, nothing changes', async () => {
    const res = await setLocale(plain, { lark_locale: 'ja' });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    expect(await storedLocale()).toBe('auto');
  });

  test('bad input is refused with a clear error and changes nothing', async () => {
    const unknown = await setLocale(owner, { lark_locale: 'fr' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error).toMatchObject({ code: 'validation_failed', fields: { lark_locale: expect.stringContaining('auto, en, zh-Hans, ja, ko') } });
    const empty = await setLocale(owner, {});
    expect(empty.status).toBe(422);
    const notJson = await call(ws.PATCH, 'PATCH', { token: owner.token, params: { id: wsId }, rawBody: '{"lark_locale":' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('bad_request');
    // A valid name with an invalid language changes neither.
    const mixed = await setLocale(owner, { name: 'Renamed', lark_locale: 'xx' });
    expect(mixed.status).toBe(422);
    const [row] = await t.db.select().from(workspace).where(eq(workspace.id, wsId));
    expect(row).toMatchObject({ name: 'Acme', larkLocale: 'auto' });
  });

  test('an admin changes it without touching the name; the response shows it', async () => {
    const res = await setLocale(admin, { lark_locale: 'ko' });
    expect(res.status).toBe(200);
    expect(res.body.workspace).toMatchObject({ name: 'Acme', lark_locale: 'ko', role: 'admin' });
    expect(await storedLocale()).toBe('ko');
    expect(await botLocaleForInstallation(t.db, feishuBot.installationId)).toBe('ko');
    expect((await setLocale(owner, { lark_locale: 'auto' })).body.workspace.lark_locale).toBe('auto');
  });
});

describe('the deliverer speaks the workspace language', () => {
  test("on 'auto', a Feishu bot prompts and notifies in Chinese, a Lark bot in English", async () => {
    await setLocale(owner, { lark_locale: 'auto' });
    const prompt = await deliverTo(feishuBot, { kind: 'binding_prompt', agentName: 'Feishu Echo', workspaceName: 'Acme' });
    expect(prompt).toContain('关联你的 Larkspur 账号');
    expect(prompt).toContain('"关联账号"');
    expect(prompt).toContain('/lark/bind?token=');
    expect(await deliverTo(feishuBot, { kind: 'agent_offline', agentName: 'Feishu Echo' })).toBe(
      'Feishu Echo 当前离线：它在 Larkspur 中没有配置运行环境。请联系它的所有者进行设置。',
    );
    expect(await deliverTo(larkBot, { kind: 'binding_prompt', agentName: 'Lark Echo', workspaceName: 'Acme' })).toContain('Connect your Larkspur account');
    expect(await deliverTo(larkBot, { kind: 'session_reset' })).toBe('Started a new conversation. Earlier messages stay in the history.');
  });

  test("a fixed 'ja' makes both bots speak Japanese, old error rows carrying the asker's locale included", async () => {
    expect((await setLocale(owner, { lark_locale: 'ja' })).status).toBe(200);
    expect(await deliverTo(feishuBot, { kind: 'binding_prompt', agentName: 'Feishu Echo', workspaceName: 'Acme' })).toContain('Larkspur アカウントを関連付ける');
    expect(await deliverTo(feishuBot, { kind: 'agent_archived', agentName: 'Feishu Echo' })).toContain('アーカイブされた');
    expect(await deliverTo(larkBot, { kind: 'unbound', workspaceName: 'Acme' })).toBe('Lark アカウントと Acme の関連付けを解除しました。');
    const error = await deliverTo(larkBot, { kind: 'agent_error', agentName: 'Lark Echo', reference: 'ref-123', locale: 'ko' });
    expect(error).toContain('Lark Echo でエラーが発生しました');
    expect(error).toContain('ref-123');
  });

  test('the unbind confirmation and the group introduction go out in the workspace language', async () => {
    await setLocale(owner, { lark_locale: 'zh-Hans' });
    const card = await deliverTo(larkBot, { kind: 'unbind_confirm', bindingId: '00000000-0000-4000-8000-0000000000aa', workspaceName: 'Acme' });
    expect(card).toContain('取消关联你的飞书账号？');
    expect(card).toContain('"binding":"00000000-0000-4000-8000-0000000000aa"');
    expect(await deliverTo(larkBot, { kind: 'bot_intro', agentName: 'Lark Echo' })).toMatch(/^你好，我是 Lark Echo。/);
    expect(await deliverTo(larkBot, { kind: 'command_usage', command: '/nope' })).toMatch(/^我不认识 \/nope 这个命令。\n可用命令：/);
  });
});
