import { randomBytes } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as sessionsRoute from '@/app/api/workspaces/[id]/chat/sessions/route';
import * as messagesRoute from '@/app/api/workspaces/[id]/chat/sessions/[sessionId]/messages/route';
import * as workspaces from '@/app/api/workspaces/route';
import { larkChat, larkChatSessionBinding, larkInboundAudit, larkOutbox } from '@/server/db/schema';
import { LarkHttpClient } from '@/server/lark/api';
import { refreshChatNames } from '@/server/lark/inbound/chat-names';
import { dispatchInboundEvent, type DispatcherDeps } from '@/server/lark/inbound/dispatcher';
import type { LarkIntegration } from '@/server/lark/integration';
import type { RunningWorker } from '@/worker/worker';
import { call, joinByInvitation, signUp, type TestUser } from '../api';
import type { TestDatabase } from '../db';
import { openIdOf, waitFor, type Sim } from './sim';
import { larkEvent, startLarkHarness, textMessageEvent, type LarkBot, type LarkHarness } from './worker-harness';

// A Lark chat's life around its sessions, against a running worker and the simulator: topics are
// sessions of their own, `/new` and `/unbind`, the bot joining and leaving groups, a person opening
// the direct chat, and recalls reaching their handler.

let lark: LarkHarness;
let t: TestDatabase;
let sim: Sim;
let worker: RunningWorker;
let integration: LarkIntegration;
let owner: TestUser;
let teammate: TestUser;
let ws: { id: string; name: string };
let tenantKey: string;
const silent = pino({ level: 'silent' });

let echoBot: LarkBot;

/** The chat message a Lark message became, with its session. */
async function storedAs(larkMessageId: string) {
  const res = await t.db.execute<{ session_id: string; content: string; title: string | null }>(sql`
    SELECT m.session_id, m.content, s.title
    FROM lark_inbound_message l JOIN chat_message m ON m.id = l.chat_message_id JOIN chat_session s ON s.id = m.session_id
    WHERE l.lark_message_id = ${larkMessageId}`);
  return res.rows;
}
const storedOnce = (larkMessageId: string) =>
  waitFor(async () => (await storedAs(larkMessageId))[0], 15_000, `${larkMessageId} stored`);

const bindingsOf = (chatId: string) =>
  t.db.select().from(larkChatSessionBinding).where(and(eq(larkChatSessionBinding.installationId, echoBot.installationId), eq(larkChatSessionBinding.larkChatId, chatId)));

const outboxOf = (kind: string) =>
  t.db.select().from(larkOutbox).where(and(eq(larkOutbox.installationId, echoBot.installationId), eq(larkOutbox.kind, kind as 'bot_intro')));

/** A message event to the Echo bot; `mentionBot` addresses it as a group message to the bot would be. */
function messageEvent({ mentionBot, ...input }: Omit<Parameters<typeof textMessageEvent>[0], 'appId' | 'tenantKey' | 'mentions'> & { mentionBot?: boolean }) {
  const mentions = mentionBot ? [{ key: '@_user_1', id: { open_id: 'ou_bot_seen', union_id: echoBot.botUnionId, user_id: '' }, name: 'Echo', tenant_key: tenantKey }] : [];
  return textMessageEvent({ ...input, appId: echoBot.appId, tenantKey, text: mentionBot ? `@_user_1 ${input.text}` : input.text, mentions });
}

/** A chat event to the Echo bot. */
const chatEvent = (eventType: string, event: Record<string, unknown>, eventId?: string) => larkEvent({ appId: echoBot.appId, tenantKey, eventType, event, eventId });

const deps = (extra: Partial<DispatcherDeps> = {}): DispatcherDeps => ({ db: worker.db, logger: silent, appUrl: 'http://localhost:3999', ...extra });
const dispatch = (payload: string, extra: Partial<DispatcherDeps & { backlogId: number }> = {}) =>
  dispatchInboundEvent(deps(extra), { appId: echoBot.appId, payload, ...(extra.backlogId !== undefined ? { backlogId: extra.backlogId } : {}) });

beforeAll(async () => {
  lark = await startLarkHarness();
  ({ t, sim, integration, tenantKey } = lark);
  worker = await lark.startWorker({ nodeId: 'chat-lifecycle-test' });
  owner = await signUp('Owner');
  teammate = await signUp('Teammate');
  ws = (await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Acme', slug: 'acme-chat-life', issue_prefix: 'LIF' } })).body.workspace;
  await joinByInvitation({ inviter: owner, workspaceId: ws.id, invitee: teammate });
  echoBot = await lark.installBot({ workspaceId: ws.id, installer: owner, name: 'Echo', runtime: { runtimeKind: 'echo' } });
}, 60_000);

afterAll(() => lark?.close());

describe('topics', () => {
  test('a topic of a group is a session of its own, listed in the web chat and answered inside the topic', async () => {
    const u = await lark.newUser('Topa');
    await lark.bind(echoBot, u.id, teammate);
    const { chat_id: chatId } = await sim.control('POST', '/chats', { tenant_key: tenantKey, name: 'Topics', user_ids: [u.id], app_ids: [echoBot.appId] });
    const mention = `@{app:${echoBot.appId}}`;
    const root = await sim.control('POST', '/messages', { user_id: u.id, chat_id: chatId, text: `${mention} kick off` });
    const main = await storedOnce(root.message_id);
    await waitFor(async () => (await lark.botMessages(chatId)).length === 1, 15_000, 'the answer to the root');
    // A reply under the root opens its thread: a topic.
    const inTopic = await sim.control('POST', '/messages', { user_id: u.id, chat_id: chatId, text: `${mention} Release checklist for Friday`, root_id: root.message_id });
    const stored = await storedOnce(inTopic.message_id);
    const threadId = (await lark.transcript(chatId)).find((m) => m.message_id === inTopic.message_id)!.thread_id;
    expect(threadId).toMatch(/^omt_/);
    expect(stored.session_id).not.toBe(main.session_id);
    expect(stored.title).toMatch(/(^Topic: |· )Release checklist for Friday$/);
    const bindings = await bindingsOf(chatId);
    expect(bindings.map((b) => [b.larkThreadId, b.chatSessionId]).sort()).toEqual(
      [
        ['', main.session_id],
        [threadId, stored.session_id],
      ].sort(),
    );

    // The answer lands in the topic.
    const answer = await waitFor(
      // The answer may go on to name the topic's conversation it was given.
      async () => (await lark.botMessages(chatId)).find((m) => String(m.content.text ?? '').startsWith('You said: "Release checklist for Friday"')),
      15_000,
      'the answer in the topic',
    );
    expect(answer.thread_id).toBe(threadId);

    // The next message of the topic joins its session.
    const again = await sim.control('POST', '/messages', { user_id: u.id, chat_id: chatId, text: `${mention} and the demo`, root_id: root.message_id });
    expect((await storedOnce(again.message_id)).session_id).toBe(stored.session_id);
    expect(await bindingsOf(chatId)).toHaveLength(2);

    // The web chat lists the topic as a conversation of its own (group sessions belong to the installer).
    const listed = await call(sessionsRoute.GET, 'GET', { token: owner.token, params: { id: ws.id } });
    const topic = listed.body.sessions.find((s: { id: string }) => s.id === stored.session_id);
    expect(topic).toMatchObject({ channel: 'lark', lark: { chat_type: 'group', topic: true, closed: false } });
    expect(listed.body.sessions.find((s: { id: string }) => s.id === main.session_id)).toMatchObject({ lark: { chat_type: 'group', topic: false, closed: false } });
  });

  test('two first messages of one topic racing make one session; later messages of the topic take the one-statement path', async () => {
    const u = await lark.newUser('Rita');
    await lark.bind(echoBot, u.id, owner);
    const openId = await openIdOf(sim, echoBot.appId, u.id);
    const chatId = `oc_race_${randomBytes(4).toString('hex')}`;
    const threadId = `omt_race_${randomBytes(4).toString('hex')}`;
    // Hold back session inserts until both dispatches have looked for the topic's session and found none.
    const gate = await t.pool.connect();
    await gate.query('BEGIN');
    await gate.query('LOCK TABLE chat_session IN SHARE MODE');
    const racing = ['a', 'b'].map((n) =>
      dispatch(messageEvent({ messageId: `om_race_${n}_${threadId}`, chatId, chatType: 'group', senderOpenId: openId, text: `first ${n}`, threadId, mentionBot: true }), {
        budgetMs: 15_000,
      }),
    );
    try {
      await waitFor(async () => {
        const waiting = await t.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
        return waiting.rows[0].n >= 2;
      }, 10_000, 'both dispatches waiting to create the session');
    } finally {
      await gate.query('COMMIT');
      gate.release();
    }
    const results = await Promise.all(racing);
    expect(results.map((r) => r.result.outcome)).toEqual(['ingested', 'ingested']);
    const [a] = await storedAs(`om_race_a_${threadId}`);
    const [b] = await storedAs(`om_race_b_${threadId}`);
    expect(a.session_id).toBe(b.session_id);
    expect((await bindingsOf(chatId)).map((x) => [x.larkThreadId, x.chatSessionId])).toEqual([[threadId, a.session_id]]);
    // The group is remembered for its name, once.
    expect(await t.db.select({ present: larkChat.botPresent }).from(larkChat).where(eq(larkChat.larkChatId, chatId))).toEqual([{ present: true }]);

    // A parked event taking the one-statement path leaves the backlog with its write (`unparked`).
    const next = await dispatch(messageEvent({ messageId: `om_race_c_${threadId}`, chatId, chatType: 'group', senderOpenId: openId, text: 'third', threadId, mentionBot: true }), {
      backlogId: 987654321,
    });
    expect(next).toMatchObject({ ack: 200, result: { outcome: 'ingested' }, unparked: true });
    expect((await storedAs(`om_race_c_${threadId}`))[0].session_id).toBe(a.session_id);
    // A message of the chat outside the topic goes to the chat's own session.
    await dispatch(messageEvent({ messageId: `om_race_main_${threadId}`, chatId, chatType: 'group', senderOpenId: openId, text: 'outside', mentionBot: true }));
    expect((await storedAs(`om_race_main_${threadId}`))[0].session_id).not.toBe(a.session_id);
  });
});

describe('/new and /unbind', () => {
  test('/new closes the DM’s session, confirms, and the next message starts a new one while the old keeps its history', async () => {
    const u = await lark.newUser('Nia');
    await lark.bind(echoBot, u.id, teammate);
    const first = await sim.control('POST', '/messages', { user_id: u.id, app_id: echoBot.appId, text: 'before the reset' });
    const old = await storedOnce(first.message_id);
    await waitFor(async () => (await lark.botMessages(first.chat_id)).length === 1, 15_000, 'the first answer');
    await sim.control('POST', '/messages', { user_id: u.id, app_id: echoBot.appId, text: '/new' });
    const reset = await waitFor(async () => (await outboxOf('session_reset')).find((r) => r.receiveId === first.chat_id), 15_000, 'the session_reset row');
    expect(reset).toMatchObject({ receiveIdType: 'chat_id', body: { kind: 'session_reset' } });
    const closed = await bindingsOf(first.chat_id);
    expect(closed).toHaveLength(1);
    expect(closed[0].closedAt).not.toBeNull();
    // The command itself is not a message of either conversation.
    expect((await t.db.execute(sql`SELECT 1 FROM chat_message WHERE content = '/new'`)).rows).toHaveLength(0);

    const after = await sim.control('POST', '/messages', { user_id: u.id, app_id: echoBot.appId, text: 'after the reset' });
    const fresh = await storedOnce(after.message_id);
    expect(fresh.session_id).not.toBe(old.session_id);
    const history = await call(messagesRoute.GET, 'GET', { token: teammate.token, params: { id: ws.id, sessionId: old.session_id } });
    // The confirmation ends the conversation it closed (the bot speaks Chinese on Feishu).
    expect(history.body.messages.map((m: { content: string }) => m.content)).toEqual(['before the reset', 'You said: "before the reset"', '已开始新的对话。之前的消息仍保留在历史记录中。']);
    const listed = await call(sessionsRoute.GET, 'GET', { token: teammate.token, params: { id: ws.id } });
    expect(listed.body.sessions.find((s: { id: string }) => s.id === old.session_id)).toMatchObject({ lark: { chat_type: 'p2p', topic: false, closed: true } });
    expect(listed.body.sessions.find((s: { id: string }) => s.id === fresh.session_id)).toMatchObject({ lark: { closed: false } });
    // The ended session takes no more messages from the web either.
    const refused = await call(messagesRoute.POST, 'POST', { token: teammate.token, params: { id: ws.id, sessionId: old.session_id }, body: { content: 'hello?' } });
    expect(refused.status).toBe(409);
  });

  test('/unbind asks a linked person to confirm, tells an unlinked one there is nothing to unlink, and is refused in a group', async () => {
    const linked = await lark.newUser('Lin');
    const binding = await lark.bind(echoBot, linked.id, teammate);
    const asked = await sim.control('POST', '/messages', { user_id: linked.id, app_id: echoBot.appId, text: '/unbind' });
    const confirm = await waitFor(async () => (await outboxOf('unbind_confirm')).find((r) => r.receiveId === asked.chat_id), 15_000, 'the unbind_confirm row');
    expect(confirm.body).toEqual({ kind: 'unbind_confirm', bindingId: binding.id, workspaceName: ws.name });

    const stranger = await lark.newUser('Stray');
    const strayAsked = await sim.control('POST', '/messages', { user_id: stranger.id, app_id: echoBot.appId, text: ' /UNBIND ' });
    const unbound = await waitFor(async () => (await outboxOf('unbound')).find((r) => r.receiveId === strayAsked.chat_id), 15_000, 'the unbound row');
    expect(unbound.body).toEqual({ kind: 'unbound', workspaceName: null });
    // Not a binding prompt: they asked to unlink, not to link.
    const strangerOpenId = await openIdOf(sim, echoBot.appId, stranger.id);
    expect((await outboxOf('binding_prompt')).filter((r) => r.larkOpenId === strangerOpenId)).toHaveLength(0);

    const { chat_id: groupId } = await sim.control('POST', '/chats', { tenant_key: tenantKey, name: 'No commands', user_ids: [linked.id], app_ids: [echoBot.appId] });
    await sim.control('POST', '/messages', { user_id: linked.id, chat_id: groupId, text: `@{app:${echoBot.appId}} /new` });
    await sim.control('POST', '/messages', { user_id: linked.id, chat_id: groupId, text: `@{app:${echoBot.appId}} /unbind` });
    const usage = await waitFor(async () => {
      const rows = (await outboxOf('command_usage')).filter((r) => r.receiveId === groupId);
      return rows.length === 2 && rows;
    }, 15_000, 'two command_usage rows');
    expect(usage.map((r) => r.body).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)))).toEqual([
      { kind: 'command_usage', command: '/new' },
      { kind: 'command_usage', command: '/unbind' },
    ]);
    expect(await bindingsOf(groupId)).toHaveLength(0);
  });
});

describe('the bot joining and leaving a group', () => {
  test('added: the chat is remembered with its name and the bot introduces itself there, once per event', async () => {
    const { chat_id: chatId } = await sim.control('POST', '/chats', { tenant_key: tenantKey, name: 'Launch room', user_ids: [], app_ids: [echoBot.appId] });
    const payload = chatEvent('im.chat.member.bot.added_v1', { chat_id: chatId, operator_id: { open_id: 'ou_someone' }, name: 'Launch room', external: false });
    expect(await dispatch(payload)).toEqual({ ack: 200, result: { outcome: 'bot_added' } });
    expect(await dispatch(payload)).toEqual({ ack: 200, result: { outcome: 'dropped', reason: 'duplicate' } });
    const [chat] = await t.db.select().from(larkChat).where(eq(larkChat.larkChatId, chatId));
    expect(chat).toMatchObject({ installationId: echoBot.installationId, workspaceId: ws.id, name: 'Launch room', botPresent: true });
    const intros = (await outboxOf('bot_intro')).filter((r) => r.receiveId === chatId);
    expect(intros.map((r) => [r.receiveIdType, r.body])).toEqual([['chat_id', { kind: 'bot_intro', agentName: 'Echo' }]]);
    // Handled, not dropped.
    expect(await t.db.select().from(larkInboundAudit).where(eq(larkInboundAudit.larkChatId, chatId))).toEqual([]);
  });

  test('removed: the chat’s sessions close (keeping their history) and the next message after a re-add starts anew', async () => {
    const u = await lark.newUser('Remo');
    await lark.bind(echoBot, u.id, owner);
    const openId = await openIdOf(sim, echoBot.appId, u.id);
    const chatId = `oc_leave_${randomBytes(4).toString('hex')}`;
    await dispatch(messageEvent({ messageId: `om_leave_1_${chatId}`, chatId, chatType: 'group', senderOpenId: openId, text: 'main', mentionBot: true }));
    await dispatch(messageEvent({ messageId: `om_leave_2_${chatId}`, chatId, chatType: 'group', senderOpenId: openId, text: 'topic', threadId: `omt_${chatId}`, mentionBot: true }));
    expect((await bindingsOf(chatId)).map((b) => b.closedAt)).toEqual([null, null]);

    expect(await dispatch(chatEvent('im.chat.member.bot.deleted_v1', { chat_id: chatId, operator_id: { open_id: 'ou_admin' }, name: 'Gone' }))).toEqual({
      ack: 200,
      result: { outcome: 'bot_removed', closedSessions: 2 },
    });
    expect((await bindingsOf(chatId)).every((b) => b.closedAt !== null)).toBe(true);
    expect(await t.db.select({ present: larkChat.botPresent }).from(larkChat).where(eq(larkChat.larkChatId, chatId))).toEqual([{ present: false }]);
    const old = (await storedAs(`om_leave_1_${chatId}`))[0];
    expect(old.content).toBe('main');

    await dispatch(chatEvent('im.chat.member.bot.added_v1', { chat_id: chatId, operator_id: { open_id: 'ou_admin' }, name: 'Back again' }));
    await dispatch(messageEvent({ messageId: `om_leave_3_${chatId}`, chatId, chatType: 'group', senderOpenId: openId, text: 'hello again', mentionBot: true }));
    expect((await storedAs(`om_leave_3_${chatId}`))[0].session_id).not.toBe(old.session_id);
    expect(await t.db.select({ present: larkChat.botPresent, name: larkChat.name }).from(larkChat).where(eq(larkChat.larkChatId, chatId))).toEqual([
      { present: true, name: 'Back again' },
    ]);
  });
});

describe('a person opening the direct chat', () => {
  test('unlinked: one binding prompt, and none for a second visit while it is live; linked: nothing', async () => {
    const stranger = await lark.newUser('Newcomer');
    const openId = await openIdOf(sim, echoBot.appId, stranger.id);
    const dmId = `oc_dm_${randomBytes(4).toString('hex')}`;
    const enter = () => dispatch(chatEvent('im.chat.access_event.bot_p2p_chat_entered_v1', { chat_id: dmId, operator_id: { open_id: openId }, last_message_id: '' }));
    expect(await enter()).toEqual({ ack: 200, result: { outcome: 'p2p_entered', prompted: true } });
    const prompts = () => t.db.select().from(larkOutbox).where(and(eq(larkOutbox.kind, 'binding_prompt'), eq(larkOutbox.larkOpenId, openId)));
    expect((await prompts()).map((p) => [p.receiveIdType, p.receiveId])).toEqual([['open_id', openId]]);
    // Once sent, its link is what keeps a second prompt away.
    await waitFor(async () => (await prompts())[0]?.status === 'sent', 15_000, 'the prompt sent');
    expect(await enter()).toEqual({ ack: 200, result: { outcome: 'p2p_entered', prompted: false } });
    expect(await prompts()).toHaveLength(1);

    const friend = await lark.newUser('Regular');
    await lark.bind(echoBot, friend.id, teammate);
    const friendOpenId = await openIdOf(sim, echoBot.appId, friend.id);
    const visit = await dispatch(chatEvent('im.chat.access_event.bot_p2p_chat_entered_v1', { chat_id: `oc_dm_friend`, operator_id: { open_id: friendOpenId } }));
    expect(visit).toEqual({ ack: 200, result: { outcome: 'p2p_entered', prompted: false } });
    expect((await t.db.select().from(larkOutbox).where(eq(larkOutbox.larkOpenId, friendOpenId))).length).toBe(0);
  });
});

describe('a recall', () => {
  test('reaches the recall handler once, and is not recorded as a dropped event', async () => {
    const eventId = `ev_recall_${randomBytes(4).toString('hex')}`;
    const payload = chatEvent('im.message.recalled_v1', { message_id: 'om_never_seen', chat_id: 'oc_somewhere', recall_time: String(Date.now()), recall_type: 'message_owner' }, eventId);
    const first = await dispatch(payload);
    expect(first).toEqual({ ack: 200, result: { outcome: 'recall', result: 'unknown' } });
    expect(await dispatch(payload)).toEqual({ ack: 200, result: { outcome: 'dropped', reason: 'duplicate' } });
    expect(await t.db.select().from(larkInboundAudit).where(eq(larkInboundAudit.larkEventId, eventId))).toEqual([]);
    const claim = await t.db.execute<{ processed: boolean }>(sql`SELECT processed_at IS NOT NULL AS processed FROM lark_inbound_message_dedup WHERE message_id = ${`event:${eventId}`}`);
    expect(claim.rows).toEqual([{ processed: true }]);
  });
});

describe('chat events from the simulator, over the bot’s connection', () => {
  const processed = async (eventId: string) =>
    (await t.db.execute<{ done: boolean }>(sql`SELECT processed_at IS NOT NULL AS done FROM lark_inbound_message_dedup WHERE message_id = ${`event:${eventId}`}`)).rows[0]?.done;

  test('the bot added to a group and removed from it; a person opening the DM; a recall', async () => {
    const u = await lark.newUser('Sima');
    await lark.bind(echoBot, u.id, owner);
    const { chat_id: chatId } = await sim.control('POST', '/chats', { tenant_key: tenantKey, name: 'Sim room', user_ids: [u.id], app_ids: [] });
    const added = await sim.control<{ deliveries: { event_id: string }[] }>('POST', `/chats/${chatId}/members`, { app_ids: [echoBot.appId], operator_user_id: u.id });
    await waitFor(async () => processed(added.deliveries[0].event_id), 15_000, 'the bot_added event handled');
    expect(await t.db.select({ name: larkChat.name, present: larkChat.botPresent }).from(larkChat).where(eq(larkChat.larkChatId, chatId))).toEqual([
      { name: 'Sim room', present: true },
    ]);
    expect((await outboxOf('bot_intro')).filter((r) => r.receiveId === chatId)).toHaveLength(1);

    const asked = await sim.control('POST', '/messages', { user_id: u.id, chat_id: chatId, text: `@{app:${echoBot.appId}} anyone here?` });
    await storedOnce(asked.message_id);
    const recalled = await sim.control<{ deliveries: { event_id: string }[] }>('POST', `/messages/${asked.message_id}/recall`, { user_id: u.id });
    await waitFor(async () => processed(recalled.deliveries[0].event_id), 15_000, 'the recall handled');
    expect(await t.db.select().from(larkInboundAudit).where(eq(larkInboundAudit.larkEventId, recalled.deliveries[0].event_id))).toEqual([]);

    const removed = await sim.control<{ deliveries: { event_id: string }[] }>('DELETE', `/chats/${chatId}/members`, { app_ids: [echoBot.appId], operator_user_id: u.id });
    await waitFor(async () => processed(removed.deliveries[0].event_id), 15_000, 'the bot_removed event handled');
    expect((await bindingsOf(chatId)).map((b) => b.closedAt !== null)).toEqual([true]);
    expect(await t.db.select({ present: larkChat.botPresent }).from(larkChat).where(eq(larkChat.larkChatId, chatId))).toEqual([{ present: false }]);

    const visitor = await lark.newUser('Visitor');
    const visitorOpenId = await openIdOf(sim, echoBot.appId, visitor.id);
    const entered = await sim.control<{ chat_id: string; deliveries: { event_id: string }[] }>('POST', '/p2p/enter', { app_id: echoBot.appId, user_id: visitor.id });
    await waitFor(async () => processed(entered.deliveries[0].event_id), 15_000, 'the p2p_entered event handled');
    const prompt = await waitFor(async () => (await lark.botMessages(entered.chat_id))[0], 15_000, 'the binding prompt in the DM');
    expect(JSON.stringify(prompt.content)).toContain('http://localhost:3999/lark/bind?token=');
    expect((await t.db.select().from(larkOutbox).where(eq(larkOutbox.larkOpenId, visitorOpenId))).map((r) => r.kind)).toEqual(['binding_prompt']);
  });
});

describe('chat names from the simulator', () => {
  test('getChat reads a group’s and a topic group’s name and mode', async () => {
    const u = await lark.newUser('Nomi');
    const client = new LarkHttpClient({ appId: echoBot.appId, appSecret: echoBot.appSecret, region: 'feishu', hosts: integration.hosts, logger: silent });
    const { chat_id: plain } = await sim.control('POST', '/chats', { tenant_key: tenantKey, name: 'Plain group', user_ids: [u.id], app_ids: [echoBot.appId] });
    const { chat_id: topics } = await sim.control('POST', '/chats', { tenant_key: tenantKey, name: 'Topic group', user_ids: [u.id], app_ids: [echoBot.appId], chat_mode: 'topic' });
    expect(await client.getChat(plain)).toEqual({ chatId: plain, name: 'Plain group', chatMode: 'group' });
    expect(await client.getChat(topics)).toEqual({ chatId: topics, name: 'Topic group', chatMode: 'topic' });
  });

  test('a group’s sessions and its topics’ take the chat’s name once it is looked up', async () => {
    const u = await lark.newUser('Nadia');
    await lark.bind(echoBot, u.id, owner);
    const { chat_id: chatId } = await sim.control('POST', '/chats', { tenant_key: tenantKey, name: 'Design crew', user_ids: [u.id], app_ids: [echoBot.appId] });
    const mention = `@{app:${echoBot.appId}}`;
    const root = await sim.control('POST', '/messages', { user_id: u.id, chat_id: chatId, text: `${mention} morning` });
    const inTopic = await sim.control('POST', '/messages', { user_id: u.id, chat_id: chatId, text: `${mention} New logo ideas`, root_id: root.message_id });
    const main = await storedOnce(root.message_id);
    const topic = await storedOnce(inTopic.message_id);
    const titles = async () => Object.fromEntries((await t.db.execute<{ id: string; title: string }>(sql`SELECT id, title FROM chat_session WHERE id IN (${main.session_id}, ${topic.session_id})`)).rows.map((r) => [r.id, r.title]));
    // The worker's own fetcher may get there first; either way the titles follow the chat's name.
    await waitFor(async () => {
      await refreshChatNames({ db: t.db, integration, logger: silent, options: { minGapMs: 10 } }, new AbortController().signal);
      const now = await titles();
      return now[main.session_id] === 'Design crew' && now[topic.session_id] === 'Design crew · New logo ideas';
    }, 15_000, 'the sessions named after the chat');
    expect(await t.db.select({ name: larkChat.name, mode: larkChat.chatMode }).from(larkChat).where(eq(larkChat.larkChatId, chatId))).toEqual([{ name: 'Design crew', mode: 'group' }]);
  });
});

