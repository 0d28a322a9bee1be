import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as workspaces from '@/app/api/workspaces/route';
import { agentTask, larkBindingToken, larkInboundAudit, larkOutbox, larkUserBinding } from '@/server/db/schema';
import { dispatchInboundEvent, type DispatcherDeps } from '@/server/lark/inbound/dispatcher';
import type { RunningWorker } from '@/worker/worker';
import { call, joinByInvitation, signUp, type TestUser } from '../api';
import type { TestDatabase } from '../db';
import { openIdOf, waitFor, type Sim } from './sim';
import { startLarkHarness, textMessageEvent, type AgentRuntime, type LarkHarness } from './worker-harness';

// The inbound pipeline's ordering and ownership rules, against a running worker and the simulator:
// what a replay is, who owns a chat's session, how racing first messages share it, what the
// database refuses when dedup is bypassed, and that a failed run still answers in Lark.

let lark: LarkHarness;
let t: TestDatabase;
let sim: Sim;
let worker: RunningWorker;
let owner: TestUser;
let teammate: TestUser;
let ws: { id: string };
let tenantKey: string;
let model: { server: Server; url: string };
let modelCalls = 0;
const silent = pino({ level: 'silent' });

type Bot = { appId: string; installationId: string; agentId: string };
let echoBot: Bot;

const installBot = (name: string, runtime: AgentRuntime = { runtimeKind: 'echo' }): Promise<Bot> => lark.installBot({ workspaceId: ws.id, installer: owner, name, runtime });

const newLarkUser = (name: string) => sim.control<{ id: string }>('POST', '/users', { tenant_key: tenantKey, name });

async function bind(bot: Bot, larkUserId: string, member: TestUser) {
  await t.db.insert(larkUserBinding).values({ workspaceId: ws.id, installationId: bot.installationId, userId: member.id, larkOpenId: await openIdOf(sim, bot.appId, larkUserId) });
}

const botMessages = async (chatId: string) =>
  ((await sim.control('GET', `/chats/${chatId}/messages`)).messages as Array<{ sender: { type: string }; msg_type: string; content: unknown }>).filter(
    (m) => m.sender.type === 'app',
  );

/** The chat message a Lark message became, with its session and that session's owner. */
async function storedAs(larkMessageId: string) {
  const res = await t.db.execute<{ session_id: string; author: string | null; session_creator: string; content: string }>(sql`
    SELECT m.session_id, m.author_user_id AS author, s.creator_user_id AS session_creator, m.content
    FROM lark_inbound_message l JOIN chat_message m ON m.id = l.chat_message_id JOIN chat_session s ON s.id = m.session_id
    WHERE l.lark_message_id = ${larkMessageId}`);
  return res.rows;
}

/** A Lark v2 message event like the platform sends, for driving the dispatcher directly. */
const envelope = (input: { appId: string; messageId: string; chatId: string; chatType?: 'p2p' | 'group'; senderOpenId: string; text: string }) => textMessageEvent({ ...input, tenantKey });

const deps = (extra: Partial<DispatcherDeps> = {}): DispatcherDeps => ({
  db: worker.db,
  logger: silent,
  appUrl: 'http://localhost:3999',
  ...extra,
});
const dispatch = (payload: string, extra: Partial<DispatcherDeps> = {}) => dispatchInboundEvent(deps(extra), { appId: echoBot.appId, payload });

/** An OpenAI-compatible endpoint that refuses every request, so every run of its agent fails. */
async function startFailingModel() {
  const server = createServer((req, res) => {
    modelCalls += 1;
    req.resume();
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'the model refuses', type: 'invalid_request_error' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` };
}

beforeAll(async () => {
  // The failing model listens on loopback, which agents may only reach when allowlisted.
  lark = await startLarkHarness({ env: { AGENT_ENDPOINT_ALLOWLIST: '127.0.0.1' } });
  ({ t, sim, tenantKey } = lark);
  model = await startFailingModel();
  worker = await lark.startWorker({ nodeId: 'inbound-rules-test' });
  owner = await signUp('Owner');
  teammate = await signUp('Teammate');
  ws = (await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Acme', slug: 'acme-inbound-rules', issue_prefix: 'MUL' } })).body.workspace;
  await joinByInvitation({ inviter: owner, workspaceId: ws.id, invitee: teammate });
  echoBot = await installBot('Echo');
}, 60_000);

afterAll(async () => {
  await lark?.close();
  await new Promise((resolve) => model?.server.close(resolve));
});

describe('the dedup claim comes before the group filter and the identity check', () => {
  test('a replay of a group message that did not address the bot is a duplicate, and audits nothing again', async () => {
    const u = await newLarkUser('Gia');
    await bind(echoBot, u.id, owner);
    const payload = envelope({ appId: echoBot.appId, messageId: 'om_group_unaddressed', chatId: 'oc_team', chatType: 'group', senderOpenId: await openIdOf(sim, echoBot.appId, u.id), text: 'lunch?' });
    expect(await dispatch(payload)).toEqual({ ack: 200, result: { outcome: 'dropped', reason: 'not_addressed_in_group' } });
    const audits = () => t.db.select().from(larkInboundAudit).where(eq(larkInboundAudit.larkMessageId, 'om_group_unaddressed'));
    expect((await audits()).map((a) => a.dropReason)).toEqual(['not_addressed_in_group']);
    expect(await dispatch(payload)).toEqual({ ack: 200, result: { outcome: 'dropped', reason: 'duplicate' } });
    expect(await dispatch(payload)).toEqual({ ack: 200, result: { outcome: 'dropped', reason: 'duplicate' } });
    expect((await audits()).map((a) => a.dropReason)).toEqual(['not_addressed_in_group']);
  });

  test('a replay of an unbound user’s message is a duplicate: no second binding prompt, nothing audited again', async () => {
    const stranger = await newLarkUser('Stan');
    const openId = await openIdOf(sim, echoBot.appId, stranger.id);
    const payload = envelope({ appId: echoBot.appId, messageId: 'om_unbound_1', chatId: 'oc_unbound_dm', senderOpenId: openId, text: 'who are you?' });
    const first = await dispatch(payload);
    expect(first.ack).toBe(200);
    expect(first.result.outcome).not.toBe('retry');
    const prompts = () => t.db.select().from(larkOutbox).where(and(eq(larkOutbox.kind, 'binding_prompt'), eq(larkOutbox.larkOpenId, openId)));
    const sent = await waitFor(async () => {
      const rows = await prompts();
      return rows.length === 1 && rows[0].status === 'sent' && rows;
    }, 15_000, 'the binding prompt sent');
    const auditsBefore = await t.db.select().from(larkInboundAudit).where(eq(larkInboundAudit.larkMessageId, 'om_unbound_1'));
    // Without its link the user would get a fresh prompt for a new message; a replay must not.
    await t.db.delete(larkBindingToken).where(eq(larkBindingToken.larkOpenId, openId));

    expect(await dispatch(payload)).toEqual({ ack: 200, result: { outcome: 'dropped', reason: 'duplicate' } });
    await new Promise((r) => setTimeout(r, 300));
    expect((await prompts()).map((p) => p.id)).toEqual(sent.map((p) => p.id));
    expect(await t.db.select().from(larkInboundAudit).where(eq(larkInboundAudit.larkMessageId, 'om_unbound_1'))).toEqual(auditsBefore);
  });
});

describe('who owns a Lark chat’s session', () => {
  test('a group chat’s session belongs to the installer, a DM’s to the sender', async () => {
    const u = await newLarkUser('Tom');
    await bind(echoBot, u.id, teammate);
    const { chat_id: groupId } = await sim.control('POST', '/chats', { tenant_key: tenantKey, name: 'Team room', user_ids: [u.id], app_ids: [echoBot.appId] });
    const inGroup = await sim.control('POST', '/messages', { user_id: u.id, chat_id: groupId, text: `@{app:${echoBot.appId}} status please` });
    const inDm = await sim.control('POST', '/messages', { user_id: u.id, app_id: echoBot.appId, text: 'just us' });
    const [group] = await waitFor(async () => {
      const rows = await storedAs(inGroup.message_id);
      return rows.length > 0 && rows;
    }, 15_000, 'the group message stored');
    const [direct] = await waitFor(async () => {
      const rows = await storedAs(inDm.message_id);
      return rows.length > 0 && rows;
    }, 15_000, 'the DM stored');
    // The teammate wrote both messages; the installer (the owner) owns the group's session.
    expect(group).toMatchObject({ author: teammate.id, session_creator: owner.id, content: 'status please' });
    expect(direct).toMatchObject({ author: teammate.id, session_creator: teammate.id, content: 'just us' });
    expect(group.session_id).not.toBe(direct.session_id);
  });
});

describe('two first messages of a new chat', () => {
  test('racing to create the chat’s session make one session, and both messages land in it', async () => {
    const u = await newLarkUser('Rex');
    await bind(echoBot, u.id, owner);
    const openId = await openIdOf(sim, echoBot.appId, u.id);
    const sessionsOfBot = async () => (await t.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM chat_session WHERE agent_id = ${echoBot.agentId}`)).rows[0].n;
    const before = await sessionsOfBot();
    // Hold back session inserts until both dispatches have looked for the chat's session and found none.
    const gate = await t.pool.connect();
    await gate.query('BEGIN');
    await gate.query('LOCK TABLE chat_session IN SHARE MODE');
    const racing = ['om_first_a', 'om_first_b'].map((messageId) =>
      dispatch(envelope({ appId: echoBot.appId, messageId, chatId: 'oc_brand_new', senderOpenId: openId, text: messageId }), { budgetMs: 15_000 }),
    );
    try {
      await waitFor(async () => {
        const waiting = await t.pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE relation = 'chat_session'::regclass AND NOT granted`);
        return waiting.rows[0].n >= 2;
      }, 10_000, 'both dispatches waiting to create the session');
    } finally {
      await gate.query('COMMIT');
      gate.release();
    }
    const results = await Promise.all(racing);
    expect(results.map((r) => r.ack)).toEqual([200, 200]);
    expect(results.map((r) => r.result.outcome)).toEqual(['ingested', 'ingested']);
    const [a] = await storedAs('om_first_a');
    const [b] = await storedAs('om_first_b');
    expect(a.session_id).toBe(b.session_id);
    const bindings = await t.db.execute<{ chat_session_id: string }>(sql`SELECT chat_session_id FROM lark_chat_session_binding WHERE lark_chat_id = 'oc_brand_new'`);
    expect(bindings.rows).toEqual([{ chat_session_id: a.session_id }]);
    expect(await sessionsOfBot()).toBe(before + 1);
  });
});

describe('the unique backstop', () => {
  test('with its dedup row gone, a replayed message still cannot become a second chat message', async () => {
    const u = await newLarkUser('Bea');
    await bind(echoBot, u.id, owner);
    const payload = envelope({ appId: echoBot.appId, messageId: 'om_backstop_1', chatId: 'oc_backstop', senderOpenId: await openIdOf(sim, echoBot.appId, u.id), text: 'only once' });
    expect((await dispatch(payload)).result.outcome).toBe('ingested');
    // As if dedup were bypassed: the row purged (or never written) before the replay arrives.
    await t.db.execute(sql`DELETE FROM lark_inbound_message_dedup WHERE message_id = 'om_backstop_1'`);
    const replay = await dispatch(payload);
    expect(replay.result.outcome).not.toBe('ingested');
    expect((await storedAs('om_backstop_1')).map((r) => r.content)).toEqual(['only once']);
  });
});

describe('a failed run', () => {
  test('sends one error card to the Lark chat', async () => {
    const flaky = await installBot('Flaky', { runtimeKind: 'openai', runtimeConfig: { baseUrl: model.url, model: 'm', apiKey: 'sk-test', stream: false } });
    const u = await newLarkUser('Eve');
    await bind(flaky, u.id, owner);
    const sent = await sim.control('POST', '/messages', { user_id: u.id, app_id: flaky.appId, text: 'please fail' });
    const replies = await waitFor(async () => {
      const r = await botMessages(sent.chat_id);
      return r.length > 0 && r;
    }, 20_000, 'the error card in Lark');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await botMessages(sent.chat_id)).toHaveLength(1);
    expect(replies[0].msg_type).toBe('interactive');
    expect(JSON.stringify(replies[0].content)).toContain('Flaky');
    expect(modelCalls).toBeGreaterThanOrEqual(1);
    const tasks = await t.db.select().from(agentTask).where(eq(agentTask.agentId, flaky.agentId));
    expect(tasks.map((task) => task.status)).toEqual(['failed']);
    const outbox = await t.db.select().from(larkOutbox).where(eq(larkOutbox.installationId, flaky.installationId));
    expect(outbox.map((row) => [row.kind, row.status])).toEqual([['agent_error', 'sent']]);
  });
});
