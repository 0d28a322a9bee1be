import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@/simulator/server';
import { SimControl, type SimApp, type SimUser } from '../test-support/sim-control';
import { LarkApiError, LarkPermissionError, LarkRateLimitError } from './errors';
import { LarkHttpClient } from './http-client';
import { TenantTokenCache } from './tenant-token-cache';

let sim: Simulator;
let control: SimControl;
let tenantKey: string;
let user: SimUser;
let app: SimApp;

beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
  control = new SimControl(sim.url);
});

afterAll(async () => {
  await sim.close();
});

beforeEach(async () => {
  await control.reset();
  tenantKey = (await control.createTenant('feishu', 'Acme')).tenant_key;
  user = await control.createUser(tenantKey, 'Alice');
  app = await control.createApp(tenantKey, 'Helper Bot', user.id);
});

function clientFor(target: SimApp, overrides: { region?: 'feishu' | 'lark'; url?: string } = {}) {
  return new LarkHttpClient({
    appId: target.app_id,
    appSecret: target.app_secret,
    region: overrides.region ?? target.brand,
    hosts: { openBaseUrl: `${overrides.url ?? sim.url}/{region}` },
    tokenCache: new TenantTokenCache(),
  });
}

describe('LarkHttpClient against the simulator', () => {
  it('sends text to a user by open_id and it lands in the p2p chat', async () => {
    const api = clientFor(app);
    const openId = await control.openIdOf(app.app_id, user.id);
    const text = 'hello\n"quoted"\t中文';
    const sent = await api.sendText('open_id', openId, text);
    const chatId = await control.p2pChat(app.app_id, user.id);
    expect(sent.chatId).toBe(chatId);
    const messages = await control.chatMessages(chatId);
    const mine = messages.find((m) => m.message_id === sent.messageId);
    expect(mine).toMatchObject({ msg_type: 'text', sender: { type: 'app' }, content: { text } });
  });

  it('makes a send idempotent with uuid', async () => {
    const api = clientFor(app);
    const chatId = await control.createChat({ tenant_key: tenantKey, name: 'Team', user_ids: [user.id], app_ids: [app.app_id] });
    const first = await api.sendText('chat_id', chatId, 'once', { uuid: 'outbox-row-1' });
    const second = await api.sendText('chat_id', chatId, 'once', { uuid: 'outbox-row-1' });
    expect(second.messageId).toBe(first.messageId);
    expect((await control.chatMessages(chatId)).filter((m) => m.sender.type === 'app')).toHaveLength(1);
  });

  it('replies in a thread to a user message', async () => {
    const api = clientFor(app);
    const chatId = await control.createChat({ tenant_key: tenantKey, name: 'Team', user_ids: [user.id], app_ids: [app.app_id] });
    const asked = await control.sendMessage({ user_id: user.id, chat_id: chatId, text: `@{app:${app.app_id}} question` });
    const reply = await api.reply(asked.message_id, { msgType: 'text', content: { text: 'answer' }, replyInThread: true });
    const stored = (await control.chatMessages(chatId)).find((m) => m.message_id === reply.messageId);
    expect(stored).toMatchObject({ content: { text: 'answer' }, root_id: asked.message_id });
    expect(stored?.thread_id).toBeTruthy();
  });

  it('reads the bot identity and its union_id through the contact API', async () => {
    const api = clientFor(app);
    const bot = await api.getBotInfo();
    const expected = await control.getApp(app.app_id);
    expect(bot.openId).toBe(expected.bot_open_id);
    expect(bot.appName).toBe('Helper Bot');
    const self = await api.getUser(bot.openId);
    expect(self.unionId).toBe(expected.bot_union_id);
  });

  it('reads a user union_id, and reports a denied contact scope as a permission error', async () => {
    const api = clientFor(app);
    const openId = await control.openIdOf(app.app_id, user.id);
    expect((await api.getUser(openId)).unionId).toBe(user.union_id);
    await control.addFault({ kind: 'deny_contact_scope', app_id: app.app_id });
    const error = await api.getUser(openId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LarkPermissionError);
    expect((error as LarkPermissionError).code).toBe(99991672);
  });

  it('refreshes the token after expire_tokens and succeeds', async () => {
    const api = clientFor(app);
    const chatId = await control.createChat({ tenant_key: tenantKey, name: 'Team', user_ids: [user.id], app_ids: [app.app_id] });
    await api.sendText('chat_id', chatId, 'before');
    await control.addFault({ kind: 'expire_tokens', app_id: app.app_id });
    await api.sendText('chat_id', chatId, 'after');
    expect((await control.chatMessages(chatId)).map((m) => (m.content as { text?: string }).text)).toEqual(['before', 'after']);
  });

  it('retries a token-invalid reply exactly once (99991663)', async () => {
    const api = clientFor(app);
    const chatId = await control.createChat({ tenant_key: tenantKey, name: 'Team', user_ids: [user.id], app_ids: [app.app_id] });
    await control.addFault({ kind: 'rest_error', app_id: app.app_id, path: '/im/v1/messages', code: 99991663, http_status: 400, count: 1 });
    await api.sendText('chat_id', chatId, 'one retry is enough');
    await control.addFault({ kind: 'rest_error', app_id: app.app_id, path: '/im/v1/messages', code: 99991663, http_status: 400, count: 2 });
    await expect(api.sendText('chat_id', chatId, 'two failures')).rejects.toMatchObject({ code: 99991663 });
    // Both injected failures were consumed by exactly two attempts: the next call goes through first time.
    await api.sendText('chat_id', chatId, 'clean');
    expect((await control.chatMessages(chatId)).map((m) => (m.content as { text?: string }).text)).toEqual(['one retry is enough', 'clean']);
  });

  it('turns an injected 99991400 / HTTP 429 into a LarkRateLimitError', async () => {
    const api = clientFor(app);
    await control.addFault({ kind: 'rest_error', app_id: app.app_id, path: '/bot/v3/info', code: 99991400, http_status: 429, count: 1 });
    const error = await api.getBotInfo().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LarkRateLimitError);
    expect((error as LarkRateLimitError).retryAfterMs).toBeGreaterThan(0);
  });

  it('carries the platform wait from x-ogw-ratelimit-reset when the app exceeds its rate', async () => {
    const limited = await startSimulator({ port: 0, rateLimitPerSecond: 2, rateLimitPerMinute: 1000 });
    try {
      const limitedControl = new SimControl(limited.url);
      const tenant = (await limitedControl.createTenant('feishu', 'Busy')).tenant_key;
      const busyApp = await limitedControl.createApp(tenant, 'Busy Bot');
      const api = clientFor(busyApp, { url: limited.url });
      const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => api.getBotInfo()));
      const limitedError = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult | undefined;
      expect(limitedError?.reason).toBeInstanceOf(LarkRateLimitError);
      expect((limitedError?.reason as LarkRateLimitError).retryAfterMs).toBeGreaterThanOrEqual(1000);
    } finally {
      await limited.close();
    }
  });

  it('surfaces a business error with its code (bot not in chat)', async () => {
    const api = clientFor(app);
    const stranger = await control.createUser(tenantKey, 'Bob');
    const chatId = await control.createChat({ tenant_key: tenantKey, name: 'Private', user_ids: [stranger.id], app_ids: [] });
    const error = await api.sendText('chat_id', chatId, 'hi').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LarkApiError);
    expect((error as LarkApiError).code).toBe(230002);
  });

  it('fails like Lark when an app calls the other brand host', async () => {
    const error = await clientFor(app, { region: 'lark' }).getBotInfo().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LarkApiError);
    expect(error).toMatchObject({ operation: 'tenant_access_token', code: 10003 });
  });
});
