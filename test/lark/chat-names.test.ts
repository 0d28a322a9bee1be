import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as workspaces from '@/app/api/workspaces/route';
import { SecretBox } from '@/server/crypto/secretbox';
import type { Db } from '@/server/db/client';
import { chatSession, larkChat, larkChatSessionBinding, larkInstallation, larkUserBinding } from '@/server/db/schema';
import { LarkApiError, LarkHttpClient, TenantTokenCache } from '@/server/lark/api';
import { refreshChatNames, runChatNameFetcher, type ChatNameDeps } from '@/server/lark/inbound/chat-names';
import { dispatchInboundEvent } from '@/server/lark/inbound/dispatcher';
import type { LarkIntegration } from '@/server/lark/integration';
import { startFakeHttp, type FakeHttp, type ScriptedReply } from '@/server/lark/test-support/fake-http';
import { call, signUp, type TestUser } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';
import { seedAgent } from '../seed';
import { waitFor } from './sim';

// Group chats get their Lark names off the ACK path: the fetcher looks them up (bounded in rate,
// through Lark outages and database loss) and retitles the chat's sessions.

let t: TestDatabase;
let fake: FakeHttp;
let owner: TestUser;
let ws: { id: string };
let installationId: string;
let agentId: string;
const appId = `cli_${randomBytes(8).toString('hex')}`;
const box = new SecretBox(randomBytes(32));
const silent = pino({ level: 'silent' });
const BOT_UNION = 'on_bot_names';

/** What the fake Lark says each chat is called; a function answers instead when set. */
const names = new Map<string, string>();
let chatReply: ((chatId: string) => ScriptedReply) | null = null;
const chatLookups = () => fake.requests.filter((r) => r.path.startsWith('/open-apis/im/v1/chats/'));

let integration: LarkIntegration;
const deps = (db: Db = t.db, options: ChatNameDeps['options'] = {}): ChatNameDeps => ({ db, integration, logger: silent, options: { minGapMs: 100, pollMs: 50, ...options } });

function groupMessage(input: { chatId: string; text: string; threadId?: string }) {
  return JSON.stringify({
    schema: '2.0',
    header: { event_id: `ev_${randomBytes(6).toString('hex')}`, event_type: 'im.message.receive_v1', create_time: String(Date.now()), app_id: appId, tenant_key: 'tk' },
    event: {
      sender: { sender_id: { open_id: 'ou_owner', union_id: 'on_owner' }, sender_type: 'user' },
      message: {
        message_id: `om_${randomBytes(6).toString('hex')}`,
        chat_id: input.chatId,
        chat_type: 'group',
        ...(input.threadId ? { thread_id: input.threadId, root_id: `om_root_${input.threadId}` } : {}),
        message_type: 'text',
        content: JSON.stringify({ text: `@_user_1 ${input.text}` }),
        mentions: [{ key: '@_user_1', id: { open_id: 'ou_bot_seen', union_id: BOT_UNION }, name: 'Echo' }],
      },
    },
  });
}

async function write(input: { chatId: string; text: string; threadId?: string }) {
  const res = await dispatchInboundEvent({ db: t.db, logger: silent, appUrl: 'http://localhost:3999' }, { appId, payload: groupMessage(input) });
  expect(res.result.outcome).toBe('ingested');
}

async function titlesOf(chatId: string) {
  const rows = await t.db
    .select({ thread: larkChatSessionBinding.larkThreadId, title: chatSession.title })
    .from(larkChatSessionBinding)
    .innerJoin(chatSession, eq(chatSession.id, larkChatSessionBinding.chatSessionId))
    .where(eq(larkChatSessionBinding.larkChatId, chatId));
  return Object.fromEntries(rows.map((r) => [r.thread, r.title]));
}

const makeStale = (chatId: string) => t.db.execute(sql`UPDATE lark_chat SET fetched_at = now() - interval '13 hours' WHERE lark_chat_id = ${chatId}`);

beforeAll(async () => {
  t = await useTestDatabase();
  fake = await startFakeHttp((request) => {
    if (request.path === '/open-apis/auth/v3/tenant_access_token/internal') return { body: { code: 0, msg: 'ok', tenant_access_token: 't-names', expire: 7200 } };
    const chat = /^\/open-apis\/im\/v1\/chats\/([^/?]+)$/.exec(request.path);
    if (chat && request.method === 'GET') {
      const chatId = decodeURIComponent(chat[1]);
      if (chatReply) return chatReply(chatId);
      const name = names.get(chatId);
      return name === undefined
        ? { status: 400, body: { code: 232011, msg: 'the bot is not in the chat' } }
        : { body: { code: 0, msg: 'success', data: { chat_id: chatId, name, chat_mode: 'group', group_message_type: 'chat' } } };
    }
    return { status: 404, body: { code: 404, msg: 'no such path' } };
  });
  integration = { configured: true, box, hosts: { openBaseUrl: fake.baseUrl, accountsBaseUrl: fake.baseUrl }, httpTimeoutMs: 2000 };
  owner = await signUp('Owner');
  ws = (await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Names', slug: 'chat-names', issue_prefix: 'NAM' } })).body.workspace;
  agentId = (await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: owner.id, name: 'Echo' })).id;
  const [inst] = await t.db
    .insert(larkInstallation)
    .values({ workspaceId: ws.id, agentId, appId, appSecretCiphertext: box.seal('secret-of-names'), botOpenId: 'ou_bot', botUnionId: BOT_UNION, installerUserId: owner.id })
    .returning();
  installationId = inst.id;
  await t.db.insert(larkUserBinding).values({ workspaceId: ws.id, installationId, userId: owner.id, larkOpenId: 'ou_owner' });
});

afterAll(async () => {
  await fake?.close();
  await t?.drop();
});

describe('the Lark client', () => {
  test('getChat reads data.name and data.chat_mode of im/v1/chats/:chat_id', async () => {
    names.set('oc_client/1', 'Client room');
    const client = new LarkHttpClient({ appId, appSecret: 'secret-of-names', region: 'feishu', hosts: { openBaseUrl: fake.baseUrl }, tokenCache: new TenantTokenCache(), logger: silent });
    expect(await client.getChat('oc_client/1')).toEqual({ chatId: 'oc_client/1', name: 'Client room', chatMode: 'group' });
    const request = chatLookups().at(-1)!;
    expect(request).toMatchObject({ method: 'GET', path: '/open-apis/im/v1/chats/oc_client%2F1' });
    expect(request.headers.authorization).toBe('Bearer t-names');
    const refused = await client.getChat('oc_unknown').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(LarkApiError);
    expect((refused as LarkApiError).code).toBe(232011);
  });
});

describe('naming group sessions', () => {
  test('new groups and topics are named, older group sessions too, at a bounded rate; later topics take the name at once', async () => {
    const chatId = `oc_rocket_${randomBytes(3).toString('hex')}`;
    await write({ chatId, text: 'hello team' });
    await write({ chatId, text: 'Release checklist\nwith details', threadId: 'omt_release' });
    expect(await titlesOf(chatId)).toEqual({ '': 'Lark group chat with Echo', omt_release: 'Topic: Release checklist with details' });
    // A group session from before chats were recorded: no lark_chat row.
    const [legacy] = await t.db.insert(chatSession).values({ workspaceId: ws.id, agentId, creatorUserId: owner.id, channel: 'lark', title: 'Lark group chat with Echo' }).returning();
    await t.db.insert(larkChatSessionBinding).values({ chatSessionId: legacy.id, workspaceId: ws.id, installationId, larkChatId: 'oc_legacy', larkChatType: 'group' });
    names.set(chatId, 'Team Rocket');
    names.set('oc_legacy', 'Old friends');

    const before = chatLookups().length;
    const stop = new AbortController();
    const loop = runChatNameFetcher(deps(), stop.signal);
    try {
      await waitFor(async () => (await titlesOf(chatId))[''] === 'Team Rocket' && (await titlesOf('oc_legacy'))[''] === 'Old friends', 10_000, 'the sessions renamed');
    } finally {
      stop.abort();
      await loop;
    }
    expect(await titlesOf(chatId)).toEqual({ '': 'Team Rocket', omt_release: 'Team Rocket · Release checklist with details' });
    const [chat] = await t.db.select().from(larkChat).where(eq(larkChat.larkChatId, chatId));
    expect(chat).toMatchObject({ name: 'Team Rocket', chatMode: 'group', botPresent: true });
    expect(chat.fetchedAt).not.toBeNull();
    expect(chatLookups().slice(before).map((r) => r.path).sort()).toEqual([`/open-apis/im/v1/chats/${chatId}`, '/open-apis/im/v1/chats/oc_legacy'].sort());

    // A topic opened once the name is known is titled with it straight away.
    await write({ chatId, text: 'Budget', threadId: 'omt_budget' });
    expect((await titlesOf(chatId)).omt_budget).toBe('Team Rocket · Budget');

    // Renamed in Lark: a stale name is looked up again and the titles follow.
    names.set(chatId, 'Team Blue');
    await makeStale(chatId);
    expect(await refreshChatNames(deps(), new AbortController().signal)).toMatchObject({ claimed: 1, named: 1 });
    expect(await titlesOf(chatId)).toEqual({ '': 'Team Blue', omt_release: 'Team Blue · Release checklist with details', omt_budget: 'Team Blue · Budget' });
    // Fresh names are not looked up again.
    expect(await refreshChatNames(deps(), new AbortController().signal)).toMatchObject({ claimed: 0 });
  });

  test('lookups keep at least the configured gap between them', async () => {
    const ids = ['oc_gap_1', 'oc_gap_2', 'oc_gap_3'];
    for (const id of ids) {
      names.set(id, `Gap ${id}`);
      await t.db.insert(larkChat).values({ installationId, workspaceId: ws.id, larkChatId: id });
    }
    const stamps: number[] = [];
    const previous = fake.handler;
    fake.handler = (request) => {
      if (request.path.startsWith('/open-apis/im/v1/chats/oc_gap_')) stamps.push(Date.now());
      return previous(request);
    };
    try {
      const pass = await refreshChatNames(deps(t.db, { minGapMs: 150 }), new AbortController().signal);
      expect(pass).toMatchObject({ claimed: 3, named: 3 });
    } finally {
      fake.handler = previous;
    }
    expect(stamps).toHaveLength(3);
    for (let i = 1; i < stamps.length; i++) expect(stamps[i] - stamps[i - 1]).toBeGreaterThanOrEqual(140);
  });

  test('a rate limit pauses the pass and puts the chats back for when Lark allows; a refusal waits like a fresh name', async () => {
    const chatId = `oc_limited_${randomBytes(3).toString('hex')}`;
    await write({ chatId, text: 'limits' });
    names.set(chatId, 'Limited');
    chatReply = () => ({ status: 429, headers: { 'x-ogw-ratelimit-reset': '7' }, body: { code: 99991400, msg: 'too many requests' } });
    try {
      const pass = await refreshChatNames(deps(), new AbortController().signal);
      expect(pass).toMatchObject({ rateLimitedMs: 7000, named: 0 });
    } finally {
      chatReply = null;
    }
    expect((await titlesOf(chatId))['']).toBe('Lark group chat with Echo');
    // Due again once the wait is over, not at once and not only after a whole staleness period.
    const due = await t.db.execute<{ wait: number }>(sql`
      SELECT extract(epoch FROM fetched_at - (now() - interval '12 hours'))::float8 AS wait FROM lark_chat WHERE lark_chat_id = ${chatId}`);
    expect(due.rows[0].wait).toBeGreaterThan(3);
    expect(due.rows[0].wait).toBeLessThan(10);

    names.delete(chatId);
    await makeStale(chatId);
    expect(await refreshChatNames(deps(), new AbortController().signal)).toMatchObject({ claimed: 1, failed: 1 });
    expect(await refreshChatNames(deps(), new AbortController().signal)).toMatchObject({ claimed: 0 });
  });

  test('the fetcher goes on after losing the database, and names what it could not before', async () => {
    const chatId = `oc_outage_${randomBytes(3).toString('hex')}`;
    await write({ chatId, text: 'outage' });
    names.set(chatId, 'Survivors');
    let failures = 3;
    const flaky = new Proxy(t.db, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'execute' || failures <= 0) return value;
        return async () => {
          failures -= 1;
          throw new Error('Connection terminated unexpectedly');
        };
      },
    }) as Db;
    const stop = new AbortController();
    const loop = runChatNameFetcher(deps(flaky), stop.signal);
    try {
      await waitFor(async () => (await titlesOf(chatId))[''] === 'Survivors', 10_000, 'the session named after the outage');
    } finally {
      stop.abort();
      await loop;
    }
    expect(failures).toBe(0);
  });

  test('a chat the bot left is not looked up', async () => {
    const chatId = `oc_left_${randomBytes(3).toString('hex')}`;
    names.set(chatId, 'Left behind');
    await t.db.insert(larkChat).values({ installationId, workspaceId: ws.id, larkChatId: chatId, botPresent: false });
    const before = chatLookups().length;
    await refreshChatNames(deps(), new AbortController().signal);
    expect(chatLookups().slice(before).map((r) => r.path)).not.toContain(`/open-apis/im/v1/chats/${chatId}`);
  });
});
