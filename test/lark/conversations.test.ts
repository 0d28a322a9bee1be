import { randomBytes } from 'node:crypto';
import { and, eq, sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as redeem from '@/app/api/lark/binding/redeem/route';
import * as memberOne from '@/app/api/workspaces/[id]/members/[userId]/route';
import * as workspaces from '@/app/api/workspaces/route';
import * as installationsRoute from '@/app/api/workspaces/[id]/lark/installations/route';
import * as drops from '@/app/api/workspaces/[id]/lark/installations/[installationId]/drops/route';
import { agent, chatMessage, issue, larkBindingToken, larkInboundAudit, larkInstallation, larkOutbox, larkRegistrationSession, larkUserBinding } from '@/server/db/schema';
import { failOutboxInserts } from '../faults';
import { dispatchInboundEvent } from '@/server/lark/inbound/dispatcher';
import { deliverOutboxRow } from '@/server/lark/outbound/deliver';
import { enqueueOutboxMessage } from '@/server/lark/outbound/outbox';
import { AbandonedClaims, claimInboundMessage } from '@/server/lark/inbound/dedup';
import type { LarkIntegration } from '@/server/lark/integration';
import type { RunningWorker } from '@/worker/worker';
import { call, joinByInvitation, signUp, type TestUser } from '../api';
import type { TestDatabase } from '../db';
import { openIdOf, waitFor, type Sim } from './sim';
import { startLarkHarness, type LarkHarness } from './worker-harness';

let lark: LarkHarness;
let t: TestDatabase;
let sim: Sim;
let worker: RunningWorker;
let integration: LarkIntegration;
let owner: TestUser;
let ws: { id: string; slug: string };
let tenantKey: string;
const silent = pino({ level: 'silent' });

type Bot = { appId: string; installationId: string; agentId: string };

/**
 * The worker's HTTP to Lark, with one fault a test can arm: the request reaches the simulator, but
 * its answer is lost on the way back (what a dropped connection or a timeout after the fact does).
 */
let loseNextAnswerTo: RegExp | null = null;
const faultyFetch = async (input: string, init: RequestInit): Promise<Response> => {
  const res = await fetch(input, init);
  if (loseNextAnswerTo && loseNextAnswerTo.test(input)) {
    loseNextAnswerTo = null;
    throw new TypeError('fetch failed');
  }
  return res;
};
let echoBot: Bot;

const installBot = (name: string, runtimeKind: 'echo' | null = 'echo'): Promise<Bot> => lark.installBot({ workspaceId: ws.id, installer: owner, name, runtime: { runtimeKind } });

async function newLarkUser(name: string) {
  return sim.control<{ id: string }>('POST', '/users', { tenant_key: tenantKey, name });
}

/** Binds a Lark user to a workspace member directly (the redeem flow has its own tests). */
async function bind(bot: Bot, larkUserId: string, member: TestUser) {
  await t.db.insert(larkUserBinding).values({ workspaceId: ws.id, installationId: bot.installationId, userId: member.id, larkOpenId: await openIdOf(sim, bot.appId, larkUserId) });
}

async function dm(bot: Bot, larkUserId: string, text: string, extra: Record<string, unknown> = {}) {
  return sim.control('POST', '/messages', { user_id: larkUserId, app_id: bot.appId, text, ...extra });
}

async function transcriptOf(chatId: string) {
  return (await sim.control('GET', `/chats/${chatId}/messages`)).messages as Array<{
    message_id: string;
    sender: { type: string; id: string };
    msg_type: string;
    content: Record<string, unknown>;
    root_id?: string;
    thread_id?: string;
  }>;
}

const botMessages = async (chatId: string) => (await transcriptOf(chatId)).filter((m) => m.sender.type === 'app');

async function userMessagesIn(larkMessageId: string) {
  return t.db.execute<{ content: string }>(sql`
    SELECT m.content FROM chat_message m JOIN lark_inbound_message l ON l.chat_message_id = m.id WHERE l.lark_message_id = ${larkMessageId}`);
}

beforeAll(async () => {
  lark = await startLarkHarness();
  ({ t, sim, integration, tenantKey } = lark);
  worker = await lark.startWorker({
    nodeId: 'conversations-test',
    fetch: faultyFetch,
    // The metrics test reads the outbox gauge right after the traffic it counts.
    gaugeRefreshMs: 200,
  });
  owner = await signUp('Owner');
  ws = (await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Acme', slug: 'acme-conv', issue_prefix: 'MUL' } })).body.workspace;
  // The bots here are on Feishu, where 'auto' speaks Chinese; these tests read the English wording.
  await t.db.execute(sql`UPDATE workspace SET lark_locale = 'en' WHERE id = ${ws.id}`);
  echoBot = await installBot('Echo');
}, 60_000);

afterAll(() => lark?.close());

describe('Lark conversations', () => {
  test('a bound member DMs the bot: the message lands in the chat and the reply comes back once', async () => {
    const li = await newLarkUser('Li');
    await bind(echoBot, li.id, owner);
    const sent = await dm(echoBot, li.id, 'hello agent');
    const replies = await waitFor(async () => {
      const r = await botMessages(sent.chat_id);
      return r.length > 0 && r;
    }, 15_000, 'agent reply in Lark');
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({ msg_type: 'text', content: { text: 'You said: "hello agent"' } });
    const stored = await userMessagesIn(sent.message_id);
    expect(stored.rows).toEqual([{ content: 'hello agent' }]);
    await new Promise((r) => setTimeout(r, 500));
    expect(await botMessages(sent.chat_id)).toHaveLength(1);
  });

  test('markdown replies arrive as a schema 2.0 card', async () => {
    const u = await newLarkUser('Mia');
    await bind(echoBot, u.id, owner);
    const sent = await dm(echoBot, u.id, 'give me a list please');
    const [card] = await waitFor(async () => {
      const r = await botMessages(sent.chat_id);
      return r.length > 0 && r;
    }, 15_000, 'card reply');
    expect(card.msg_type).toBe('interactive');
    expect(card.content).toMatchObject({ schema: '2.0', config: { update_multi: true } });
    expect(JSON.stringify(card.content)).toContain('- give');
  });

  test('an unbound user gets one binding card, not one per message, and their words are not stored', async () => {
    const stranger = await newLarkUser('Stranger');
    const first = await dm(echoBot, stranger.id, 'secret plans');
    await dm(echoBot, stranger.id, 'hello?');
    await dm(echoBot, stranger.id, 'anyone?');
    const cards = await waitFor(async () => {
      const r = await botMessages(first.chat_id);
      return r.length > 0 && r;
    }, 15_000, 'binding card');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await botMessages(first.chat_id)).toHaveLength(1);
    const url = JSON.stringify(cards[0].content).match(/http:\/\/localhost:3999\/lark\/bind\?token=([A-Za-z0-9_-]+)/);
    expect(url).not.toBeNull();
    const rows = await t.db.execute(sql`SELECT count(*)::int AS n FROM chat_message WHERE content = 'secret plans'`);
    expect(rows.rows[0]).toEqual({ n: 0 });
    const tokens = await t.db.select().from(larkBindingToken).where(eq(larkBindingToken.larkOpenId, await openIdOf(sim, echoBot.appId, stranger.id)));
    expect(tokens).toHaveLength(1);
    expect(tokens[0].tokenHash).not.toContain(url![1]);

    // The member opens the link while signed in: bound; the next message reaches the agent.
    const member = await signUp('Stranger in Larkspur');
    await joinByInvitation({ inviter: owner, workspaceId: ws.id, invitee: member });
    const redeemed = await call(redeem.POST, 'POST', { token: member.token, body: { token: url![1] } });
    expect(redeemed.status).toBe(200);
    expect(redeemed.body).toMatchObject({ workspace: { id: ws.id, slug: 'acme-conv' }, agent: { id: echoBot.agentId, name: 'Echo' } });
    expect((await call(redeem.POST, 'POST', { token: member.token, body: { token: url![1] } })).status).toBe(410);
    const next = await dm(echoBot, stranger.id, 'now I am bound');
    await waitFor(async () => (await botMessages(next.chat_id)).length === 2, 15_000, 'reply after binding');
    const [row] = await t.db.select({ author: chatMessage.authorUserId }).from(chatMessage).where(eq(chatMessage.content, 'now I am bound'));
    expect(row.author).toBe(member.id);
  });

  test('/issue creates MUL-N through the issue service and confirms in Lark; bare /issue uses the previous message', async () => {
    const u = await newLarkUser('Ivy');
    await bind(echoBot, u.id, owner);
    const usage = await dm(echoBot, u.id, '/issue');
    await waitFor(async () => (await botMessages(usage.chat_id)).some((m) => String(m.content.text).startsWith('Usage: /issue')), 15_000, 'usage');
    const cmd = await dm(echoBot, u.id, '/issue Fix login\nIt fails on Safari');
    const confirmation = await waitFor(async () => (await botMessages(cmd.chat_id)).find((m) => String(m.content.text).startsWith('Created MUL-')), 15_000, 'confirmation');
    const [created] = await t.db.select().from(issue).where(and(eq(issue.workspaceId, ws.id), eq(issue.title, 'Fix login')));
    expect(created).toMatchObject({ originType: 'lark_chat', description: 'It fails on Safari', creatorUserId: owner.id });
    expect(confirmation.content.text).toBe(`Created MUL-${created.number} — Fix login\nhttp://localhost:3999/w/acme-conv/issues/${created.id}`);
    await dm(echoBot, u.id, 'The export button does nothing');
    await new Promise((r) => setTimeout(r, 300));
    await dm(echoBot, u.id, '/issue');
    await waitFor(async () => (await t.db.select().from(issue).where(eq(issue.title, 'The export button does nothing'))).length === 1, 15_000, 'bare /issue');
  });

  test('offline and archived agents answer with a notice naming the agent', async () => {
    const sleepy = await installBot('Sleepy', null);
    const u = await newLarkUser('Oz');
    await bind(sleepy, u.id, owner);
    const sent = await dm(sleepy, u.id, 'are you there?');
    await waitFor(async () => (await botMessages(sent.chat_id)).some((m) => String(m.content.text).startsWith('Sleepy is offline')), 15_000, 'offline notice');
    await t.db.update(agent).set({ archivedAt: new Date(), runtimeKind: 'echo' }).where(eq(agent.id, sleepy.agentId));
    await dm(sleepy, u.id, 'still?');
    await waitFor(async () => (await botMessages(sent.chat_id)).some((m) => String(m.content.text).startsWith('Sleepy has been archived')), 15_000, 'archived notice');
  });

  test('in a group with two bots only the @-mentioned bot answers; the other records not_addressed_in_group', async () => {
    const second = await installBot('Second');
    const u = await newLarkUser('Gus');
    await bind(echoBot, u.id, owner);
    await bind(second, u.id, owner);
    const { chat_id } = await sim.control('POST', '/chats', { tenant_key: tenantKey, name: 'Team', user_ids: [u.id], app_ids: [echoBot.appId, second.appId] });
    const sent = await sim.control('POST', '/messages', { user_id: u.id, chat_id, text: `@{app:${second.appId}} what is up` });
    const replies = await waitFor(async () => {
      const r = await botMessages(chat_id);
      return r.length > 0 && r;
    }, 15_000, 'group reply');
    expect(replies[0].sender.id).toBe(second.appId);
    expect(replies[0].content.text).toBe('You said: "what is up"');
    await waitFor(async () => {
      const rows = await t.db.select().from(larkInboundAudit).where(and(eq(larkInboundAudit.installationId, echoBot.installationId), eq(larkInboundAudit.larkMessageId, sent.message_id)));
      return rows.length === 1 && rows[0].dropReason === 'not_addressed_in_group';
    }, 10_000, 'audit row');
    await new Promise((r) => setTimeout(r, 500));
    expect(await botMessages(chat_id)).toHaveLength(1);
  });

  test('a reply to a message inside a thread goes to that thread', async () => {
    const u = await newLarkUser('Tia');
    await bind(echoBot, u.id, owner);
    const root = await dm(echoBot, u.id, 'thread root');
    await waitFor(async () => (await botMessages(root.chat_id)).length === 1, 15_000, 'root reply');
    await dm(echoBot, u.id, 'in the thread', { root_id: root.message_id });
    const reply = await waitFor(async () => (await botMessages(root.chat_id)).find((m) => m.content.text === 'You said: "in the thread"'), 15_000, 'thread reply');
    expect(reply.root_id ?? reply.thread_id).toBeTruthy();
  });

  test('replayed and chunked deliveries make one chat message', async () => {
    const u = await newLarkUser('Ray');
    await bind(echoBot, u.id, owner);
    await sim.control('POST', '/faults', { kind: 'duplicate_deliveries', app_id: echoBot.appId, count: 3 });
    await sim.control('POST', '/faults', { kind: 'chunk_events', app_id: echoBot.appId, chunk_bytes: 200 });
    const sent = await dm(echoBot, u.id, 'replayed '.repeat(20).trim());
    await waitFor(async () => (await botMessages(sent.chat_id)).length >= 1, 15_000, 'reply');
    await new Promise((r) => setTimeout(r, 1500));
    await sim.control('DELETE', '/faults');
    expect((await userMessagesIn(sent.message_id)).rows).toHaveLength(1);
    expect(await botMessages(sent.chat_id)).toHaveLength(1);
  });

  test('a failing Lark send is retried and arrives once', async () => {
    const u = await newLarkUser('Fay');
    await bind(echoBot, u.id, owner);
    await sim.control('POST', '/faults', { kind: 'rest_error', path: '/open-apis/im/v1/messages', code: 1000, http_status: 500, count: 2 });
    const sent = await dm(echoBot, u.id, 'retry me');
    await waitFor(async () => (await botMessages(sent.chat_id)).length === 1, 20_000, 'retried reply');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await botMessages(sent.chat_id)).toHaveLength(1);
    const [row] = await t.db.select().from(larkOutbox).where(and(eq(larkOutbox.kind, 'agent_reply'), eq(larkOutbox.receiveId, sent.chat_id)));
    expect(row).toMatchObject({ status: 'sent', partsSent: 1 });
    expect(row.attempts).toBeGreaterThanOrEqual(2);
    await sim.control('DELETE', '/faults');
  });

  test('the ACK leaves within 3 s while the Lark API hangs', async () => {
    const u = await newLarkUser('Hana');
    await bind(echoBot, u.id, owner);
    await sim.control('POST', '/faults', { kind: 'rest_delay', path: '/open-apis/', ms: 8000, count: 50 });
    const sent = await dm(echoBot, u.id, 'are acks fast?');
    const delivery = await waitFor(async () => {
      const { deliveries } = await sim.control('GET', `/deliveries?app_id=${echoBot.appId}`);
      return deliveries.find((d: { im_message_id: string; status: string }) => d.im_message_id === sent.message_id && d.status === 'acked');
    }, 10_000, 'ack');
    expect(delivery.attempts).toBe(1);
    expect(delivery.acks[0].code).toBe(200);
    await sim.control('DELETE', '/faults');
  });

  test('removing a member stops their Lark messages at once', async () => {
    const leaver = await signUp('Leaver');
    await joinByInvitation({ inviter: owner, workspaceId: ws.id, invitee: leaver });
    const u = await newLarkUser('Lou');
    await bind(echoBot, u.id, leaver);
    expect((await call(memberOne.DELETE, 'DELETE', { token: owner.token, params: { id: ws.id, userId: leaver.id } })).status).toBe(204);
    expect(await t.db.select().from(larkUserBinding).where(eq(larkUserBinding.userId, leaver.id))).toHaveLength(0);
    const sent = await dm(echoBot, u.id, 'I left');
    await waitFor(async () => (await botMessages(sent.chat_id)).length === 1, 15_000, 'binding card');
    expect(JSON.stringify((await botMessages(sent.chat_id))[0].content)).toContain('/lark/bind?token=');
    expect((await userMessagesIn(sent.message_id)).rows).toHaveLength(0);
  });
});

describe('admin views', () => {
  test('a permanent Lark error is recorded as failed with its code and shown on the installation', async () => {
    const { chat_id } = await sim.control('POST', '/chats', { tenant_key: tenantKey, name: 'No bots here', user_ids: [], app_ids: [] });
    const id = await t.db.transaction(async (tx) => {
      const { enqueueOutboxMessage } = await import('@/server/lark/outbound/outbox');
      return enqueueOutboxMessage(tx, {
        workspaceId: ws.id,
        installationId: echoBot.installationId,
        target: { receiveIdType: 'chat_id', receiveId: chat_id },
        body: { kind: 'issue_usage' },
      });
    });
    const row = await waitFor(async () => {
      const [r] = await t.db.select().from(larkOutbox).where(eq(larkOutbox.id, id!));
      return r.status !== 'pending' && r;
    }, 15_000, 'delivery outcome');
    expect(row).toMatchObject({ status: 'failed', lastErrorCode: 230002 });
    const listing = await call(installationsRoute.GET, 'GET', { token: owner.token, params: { id: ws.id } });
    const mine = listing.body.installations.find((i: { id: string }) => i.id === echoBot.installationId);
    expect(mine.last_delivery_error).toMatchObject({ code: 230002 });
  });

  test('admins see recent drops without content; members may not', async () => {
    const res = await call(drops.GET, 'GET', { token: owner.token, params: { id: ws.id, installationId: echoBot.installationId } });
    expect(res.status).toBe(200);
    expect(res.body.drops.some((d: { reason: string }) => d.reason === 'not_addressed_in_group')).toBe(true);
    expect(Object.keys(res.body.drops[0]).sort()).toEqual(['chat_id', 'chat_name', 'event_type', 'reason', 'received_at']);
    const member = await signUp('Viewer');
    await joinByInvitation({ inviter: owner, workspaceId: ws.id, invitee: member });
    expect((await call(drops.GET, 'GET', { token: member.token, params: { id: ws.id, installationId: echoBot.installationId } })).status).toBe(403);
  });
});

describe('worker operations endpoints', () => {
  const ops = (path: string) => fetch(`http://127.0.0.1:${worker.opsPort}${path}`);

  test('healthz and readyz answer, and the metrics moved with the traffic above', async () => {
    expect((await ops('/healthz')).status).toBe(200);
    const ready = await ops('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: true, migrations: true, lark_hub: true, task_runner: true } });
    const text = await (await ops('/metrics')).text();
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 'NaN');
    expect(value(/^larkspur_lark_events_received_total (\d+)/m)).toBeGreaterThan(10);
    expect(value(/^larkspur_lark_acks_total\{code="200"\} (\d+)/m)).toBeGreaterThan(10);
    expect(value(/^larkspur_lark_dispatch_outcomes_total\{outcome="ingested"\} (\d+)/m)).toBeGreaterThan(3);
    expect(value(/^larkspur_lark_dispatch_drops_total\{reason="not_addressed_in_group"\} (\d+)/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^larkspur_lark_outbox_deliveries_total\{result="sent"\} (\d+)/m)).toBeGreaterThan(3);
    expect(value(/^larkspur_lark_outbox_messages\{status="sent"\} (\d+)/m)).toBeGreaterThan(3);
    expect(value(/^larkspur_lark_leases_held (\d+)/m)).toBeGreaterThanOrEqual(2);
    expect(value(/^larkspur_lark_ack_latency_seconds_count (\d+)/m)).toBeGreaterThan(10);
    expect(text).not.toContain(lark.key.toString('base64'));
    // The periodic maintenance (dedup and token purges, union_id backfill) is on the job schedule.
    const schedule = await t.db.execute<{ cron: string }>(sql`SELECT cron FROM pgboss.schedule WHERE name = 'lark-maintenance'`);
    expect(schedule.rows).toEqual([{ cron: '*/15 * * * *' }]);
    expect((await ops('/nope')).status).toBe(404);
  });
});

/** A Lark v2 envelope like the platform sends, for driving the dispatcher directly. */
function envelope(input: { appId: string; messageId: string; chatId?: string; senderOpenId: string; text: string }) {
  return JSON.stringify({
    schema: '2.0',
    header: { event_id: `ev_${randomBytes(6).toString('hex')}`, event_type: 'im.message.receive_v1', create_time: String(Date.now()), token: '', app_id: input.appId, tenant_key: 't' },
    event: {
      sender: { sender_id: { open_id: input.senderOpenId, union_id: 'on_x', user_id: 'u_x' }, sender_type: 'user', tenant_key: 't' },
      message: {
        message_id: input.messageId,
        chat_id: input.chatId ?? 'oc_direct',
        chat_type: 'p2p',
        message_type: 'text',
        content: JSON.stringify({ text: input.text }),
        create_time: String(Date.now()),
        mentions: [],
      },
    },
  });
}

describe('dispatcher', () => {
  const deps = (extra: { nodeId?: string } = {}) => ({ db: worker.db, logger: silent, appUrl: 'http://localhost:3999', ...extra });

  test('unknown apps, malformed payloads and revoked installations are dropped with an audit row and ACK 200', async () => {
    const unknown = await dispatchInboundEvent(deps(), { appId: 'cli_0000000000000000', payload: envelope({ appId: 'cli_0000000000000000', messageId: 'om_u1', senderOpenId: 'ou_1', text: 'x' }) });
    expect(unknown).toEqual({ ack: 200, result: { outcome: 'dropped', reason: 'invalid_event' } });
    const malformed = await dispatchInboundEvent(deps(), { appId: echoBot.appId, payload: '{not json' });
    expect(malformed).toEqual({ ack: 200, result: { outcome: 'dropped', reason: 'invalid_event' } });
    const otherEvent = JSON.stringify({ schema: '2.0', header: { event_id: 'ev_reaction', event_type: 'im.message.reaction.created_v1', app_id: echoBot.appId }, event: {} });
    const unsupported = await dispatchInboundEvent(deps(), { appId: echoBot.appId, payload: otherEvent });
    expect(unsupported).toEqual({ ack: 200, result: { outcome: 'dropped', reason: 'unsupported_event' } });
    const [audit] = await t.db.select().from(larkInboundAudit).where(eq(larkInboundAudit.larkEventId, 'ev_reaction'));
    expect(audit).toMatchObject({ dropReason: 'unsupported_event', eventType: 'im.message.reaction.created_v1', installationId: echoBot.installationId });
    const revoked = await installBot('Gone');
    await t.db.update(larkInstallation).set({ status: 'revoked' }).where(eq(larkInstallation.id, revoked.installationId));
    const r = await dispatchInboundEvent(deps(), { appId: revoked.appId, payload: envelope({ appId: revoked.appId, messageId: 'om_r1', senderOpenId: 'ou_1', text: 'x' }) });
    expect(r).toEqual({ ack: 200, result: { outcome: 'dropped', reason: 'revoked_installation' } });
    const audits = await t.db.select().from(larkInboundAudit).where(eq(larkInboundAudit.larkMessageId, 'om_r1'));
    expect(audits.map((a) => a.dropReason)).toEqual(['revoked_installation']);
    expect(Object.keys(audits[0])).not.toContain('content');
  });

  test('two workers racing on one message make one chat message; a replay is a duplicate', async () => {
    const u = await newLarkUser('Race');
    await bind(echoBot, u.id, owner);
    const payload = envelope({ appId: echoBot.appId, messageId: 'om_race_1', chatId: 'oc_race', senderOpenId: await openIdOf(sim, echoBot.appId, u.id), text: 'race' });
    const results = await Promise.all([dispatchInboundEvent(deps(), { appId: echoBot.appId, payload }), dispatchInboundEvent(deps(), { appId: echoBot.appId, payload })]);
    const outcomes = results.map((r) => r.result.outcome).sort();
    expect(outcomes).toContain('ingested');
    expect((await userMessagesIn('om_race_1')).rows).toHaveLength(1);
    const replay = await dispatchInboundEvent(deps(), { appId: echoBot.appId, payload });
    expect(replay).toEqual({ ack: 200, result: { outcome: 'dropped', reason: 'duplicate' } });
  });

  test('a worker killed between claim and mark loses nothing: redelivery waits (ACK 500), then re-takes the stale claim', async () => {
    const u = await newLarkUser('Kim');
    await bind(echoBot, u.id, owner);
    const claim = await claimInboundMessage(worker.db, { installationId: echoBot.installationId, messageId: 'om_killed_1' });
    expect('claimed' in claim).toBe(true);
    const payload = envelope({ appId: echoBot.appId, messageId: 'om_killed_1', chatId: 'oc_killed', senderOpenId: await openIdOf(sim, echoBot.appId, u.id), text: 'survive' });
    const early = await dispatchInboundEvent(deps(), { appId: echoBot.appId, payload });
    expect(early.ack).toBe(500);
    await t.db.execute(sql`UPDATE lark_inbound_message_dedup SET received_at = now() - interval '61 seconds' WHERE message_id = 'om_killed_1'`);
    const later = await dispatchInboundEvent(deps(), { appId: echoBot.appId, payload });
    expect(later).toMatchObject({ ack: 200, result: { outcome: 'ingested' } });
    expect((await userMessagesIn('om_killed_1')).rows).toEqual([{ content: 'survive' }]);
  });

  test('the claim of a worker node that stopped heartbeating is re-taken at once, a live node\'s is not', async () => {
    const u = await newLarkUser('Nod');
    await bind(echoBot, u.id, owner);
    await t.db.execute(sql`INSERT INTO worker_node (node_id, boot_id, heartbeat_at) VALUES
      ('node-dead', gen_random_uuid(), now() - interval '30 seconds'), ('node-live', gen_random_uuid(), now())
      ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at`);
    const senderOpenId = await openIdOf(sim, echoBot.appId, u.id);
    // A live node's fresh claim: the redelivery waits (ACK 500).
    expect('claimed' in (await claimInboundMessage(worker.db, { installationId: echoBot.installationId, messageId: 'om_node_live', nodeId: 'node-live' }))).toBe(true);
    const waiting = await dispatchInboundEvent(deps({ nodeId: 'node-here' }), { appId: echoBot.appId, payload: envelope({ appId: echoBot.appId, messageId: 'om_node_live', chatId: 'oc_node', senderOpenId, text: 'live' }) });
    expect(waiting.ack).toBe(500);
    // A dead node's fresh claim (well under the 20 s staleness): taken over by the redelivery.
    expect('claimed' in (await claimInboundMessage(worker.db, { installationId: echoBot.installationId, messageId: 'om_node_dead', nodeId: 'node-dead' }))).toBe(true);
    const taken = await dispatchInboundEvent(deps({ nodeId: 'node-here' }), { appId: echoBot.appId, payload: envelope({ appId: echoBot.appId, messageId: 'om_node_dead', chatId: 'oc_node', senderOpenId, text: 'dead' }) });
    expect(taken).toMatchObject({ ack: 200, result: { outcome: 'ingested' } });
    expect((await userMessagesIn('om_node_dead')).rows).toEqual([{ content: 'dead' }]);
    const [row] = (await t.db.execute<{ claimed_by: string; attempts: number }>(sql`SELECT claimed_by, attempts FROM lark_inbound_message_dedup WHERE message_id = 'om_node_dead'`)).rows;
    expect(row).toEqual({ claimed_by: 'node-here', attempts: 2 });
  });

  test('an infrastructure failure before the durable write releases the claim and asks for redelivery', async () => {
    const u = await newLarkUser('Ina');
    await bind(echoBot, u.id, owner);
    const payload = envelope({ appId: echoBot.appId, messageId: 'om_infra_1', chatId: 'oc_infra', senderOpenId: await openIdOf(sim, echoBot.appId, u.id), text: 'infra' });
    // The offline notice's outbox row fails inside the dispatch transaction.
    const undo = await failOutboxInserts(t.pool, 'agent_offline');
    await t.db.update(agent).set({ runtimeKind: null }).where(eq(agent.id, echoBot.agentId));
    const failed = await dispatchInboundEvent(deps(), { appId: echoBot.appId, payload });
    await t.db.update(agent).set({ runtimeKind: 'echo' }).where(eq(agent.id, echoBot.agentId));
    await undo();
    expect(failed.ack).toBe(500);
    expect((await userMessagesIn('om_infra_1')).rows).toHaveLength(0);
    const retried = await dispatchInboundEvent(deps(), { appId: echoBot.appId, payload });
    expect(retried).toMatchObject({ ack: 200, result: { outcome: 'ingested' } });
  });

  test('over budget: the claim is released, ACK 500, and the late transaction cannot commit', async () => {
    const u = await newLarkUser('Slow');
    await bind(echoBot, u.id, owner);
    const payload = envelope({ appId: echoBot.appId, messageId: 'om_slow_1', chatId: 'oc_slow', senderOpenId: await openIdOf(sim, echoBot.appId, u.id), text: 'slow' });
    const lock = await t.pool.connect();
    // Hold the session's lock so the dispatch cannot finish inside its budget.
    await lock.query('BEGIN');
    await lock.query(`LOCK TABLE lark_chat_session_binding IN EXCLUSIVE MODE`);
    const result = await dispatchInboundEvent({ ...deps(), budgetMs: 300 }, { appId: echoBot.appId, payload });
    expect(result.ack).toBe(500);
    await lock.query('COMMIT');
    lock.release();
    await new Promise((r) => setTimeout(r, 500));
    expect((await userMessagesIn('om_slow_1')).rows).toHaveLength(0);
    const again = await dispatchInboundEvent(deps(), { appId: echoBot.appId, payload });
    expect(again).toMatchObject({ ack: 200, result: { outcome: 'ingested' } });
  });

  test('a binding without membership (defence in depth) is dropped as non_workspace_member', async () => {
    // The FK cascade normally removes the binding with the membership; without it the dispatcher still refuses.
    await t.db.execute(sql`ALTER TABLE lark_user_binding DROP CONSTRAINT lark_user_binding_member_fk`);
    try {
      const ghost = await signUp('Ghost');
      await joinByInvitation({ inviter: owner, workspaceId: ws.id, invitee: ghost });
      const u = await newLarkUser('Ghosty');
      await bind(echoBot, u.id, ghost);
      await t.db.execute(sql`DELETE FROM member WHERE user_id = ${ghost.id}`);
      const payload = envelope({ appId: echoBot.appId, messageId: 'om_ghost_1', senderOpenId: await openIdOf(sim, echoBot.appId, u.id), text: 'boo' });
      const r = await dispatchInboundEvent(deps(), { appId: echoBot.appId, payload });
      expect(r).toEqual({ ack: 200, result: { outcome: 'dropped', reason: 'non_workspace_member' } });
    } finally {
      await t.db.execute(sql`DELETE FROM lark_user_binding b WHERE NOT EXISTS (SELECT 1 FROM member m WHERE m.workspace_id = b.workspace_id AND m.user_id = b.user_id)`);
      await t.db.execute(
        sql`ALTER TABLE lark_user_binding ADD CONSTRAINT lark_user_binding_member_fk FOREIGN KEY (workspace_id, user_id) REFERENCES member(workspace_id, user_id) ON DELETE CASCADE`,
      );
    }
  });
});

describe('binding redemption', () => {
  async function tokenFor(openId: string) {
    const raw = randomBytes(32).toString('base64url');
    const { hashBindingToken } = await import('@/server/lark/binding/tokens');
    await t.db.insert(larkBindingToken).values({
      tokenHash: hashBindingToken(raw),
      workspaceId: ws.id,
      installationId: echoBot.installationId,
      larkOpenId: openId,
      expiresAt: sql`now() + interval '10 minutes'`,
    });
    return raw;
  }

  test('410 for unknown and expired tokens, indistinguishably', async () => {
    const unknown = await call(redeem.POST, 'POST', { token: owner.token, body: { token: 'nope' } });
    const raw = await tokenFor('ou_expired');
    await t.db.execute(sql`UPDATE lark_binding_token SET created_at = now() - interval '20 minutes', expires_at = now() - interval '5 minutes' WHERE lark_open_id = 'ou_expired'`);
    const expired = await call(redeem.POST, 'POST', { token: owner.token, body: { token: raw } });
    expect(unknown.status).toBe(410);
    expect(expired.status).toBe(410);
    expect(expired.body).toEqual(unknown.body);
  });

  test('403 for a non-member and 409 when the Lark user is bound to someone else; the token stays usable', async () => {
    const raw = await tokenFor('ou_contested');
    const outsider = await signUp('Outsider');
    const forbidden = await call(redeem.POST, 'POST', { token: outsider.token, body: { token: raw } });
    expect(forbidden.status).toBe(403);
    await t.db.insert(larkUserBinding).values({ workspaceId: ws.id, installationId: echoBot.installationId, userId: owner.id, larkOpenId: 'ou_contested' });
    const other = await signUp('Other');
    await joinByInvitation({ inviter: owner, workspaceId: ws.id, invitee: other });
    const taken = await call(redeem.POST, 'POST', { token: other.token, body: { token: raw } });
    expect(taken.status).toBe(409);
    const [row] = await t.db.select().from(larkBindingToken).where(eq(larkBindingToken.larkOpenId, 'ou_contested'));
    expect(row.consumedAt).toBeNull();
    // The original holder may re-bind (idempotent) with it.
    expect((await call(redeem.POST, 'POST', { token: owner.token, body: { token: raw } })).status).toBe(200);
  });

  test('signed-out callers get 401; the schema caps token lifetime at 15 minutes', async () => {
    expect((await call(redeem.POST, 'POST', { body: { token: 'x' } })).status).toBe(401);
    await expect(
      t.db.insert(larkBindingToken).values({
        tokenHash: 'a'.repeat(64),
        workspaceId: ws.id,
        installationId: echoBot.installationId,
        larkOpenId: 'ou_long',
        expiresAt: sql`now() + interval '16 minutes'`,
      }),
    ).rejects.toThrow();
  });
});

describe('faults', () => {
  const deps = () => ({ db: worker.db, logger: silent, appUrl: 'http://localhost:3999' });

  test('a binding prompt whose first send reached Lark but whose answer was lost still carries a working link', async () => {
    const newcomer = await newLarkUser('Nell');
    loseNextAnswerTo = /\/open-apis\/im\/v1\/messages/;
    const first = await dm(echoBot, newcomer.id, 'hi there');
    await waitFor(async () => (await t.db.select().from(larkOutbox).where(eq(larkOutbox.larkOpenId, await openIdOf(sim, echoBot.appId, newcomer.id))))[0]?.status === 'sent', 15_000, 'prompt sent');
    const cards = await botMessages(first.chat_id);
    expect(cards).toHaveLength(1);
    const url = JSON.stringify(cards[0].content).match(/\/lark\/bind\?token=([A-Za-z0-9_-]+)/);
    const member = await signUp('Nell in Larkspur');
    await joinByInvitation({ inviter: owner, workspaceId: ws.id, invitee: member });
    const redeemed = await call(redeem.POST, 'POST', { token: member.token, body: { token: url![1] } });
    expect(redeemed.status).toBe(200);
  });

  test('a database error after Lark took the message is retried, not recorded as a refusal; its retry resends it and it shows once', async () => {
    const u = await newLarkUser('Dora');
    await bind(echoBot, u.id, owner);
    const chat = await dm(echoBot, u.id, 'open a chat');
    await waitFor(async () => (await botMessages(chat.chat_id)).length === 1, 15_000, 'first reply');
    // Due in an hour, so the running worker leaves it to this test's own delivery.
    const outboxId = await worker.db.transaction(async (tx) => {
      const id = (await enqueueOutboxMessage(tx, {
        workspaceId: ws.id,
        installationId: echoBot.installationId,
        target: { receiveIdType: 'chat_id', receiveId: chat.chat_id },
        body: { kind: 'issue_usage' },
      }))!;
      await tx.update(larkOutbox).set({ nextAttemptAt: sql`now() + interval '1 hour'` }).where(eq(larkOutbox.id, id));
      return id;
    });
    let progressWrites = 0;
    // Lark accepts the send; recording its progress then fails, as during a database blip.
    const dialect = new PgDialect();
    const flaky = new Proxy(worker.db, {
      get(target, prop, receiver) {
        if (prop !== 'execute') return Reflect.get(target, prop, receiver);
        return (query: SQL) => {
          if (/^\s*UPDATE lark_outbox o SET\s+parts_sent/.test(dialect.sqlToQuery(query).sql) && ++progressWrites === 1) {
            return Promise.reject(new Error('terminating connection due to administrator command'));
          }
          return target.execute(query);
        };
      },
    });
    const result = await deliverOutboxRow({ db: flaky, integration, logger: silent, appUrl: 'http://localhost:3999' }, outboxId);
    expect(result).toBe('retry_scheduled');
    const [row] = await t.db.select().from(larkOutbox).where(eq(larkOutbox.id, outboxId));
    expect(row).toMatchObject({ status: 'pending', lastErrorCode: null, lastError: 'Temporary internal error while sending; retrying' });
    expect(row.nextAttemptAt.getTime()).toBeLessThan(Date.now() + 60_000);
    expect(await botMessages(chat.chat_id)).toHaveLength(2);

    // The retry falls due and the running worker resends with the same uuid: Lark shows it once.
    await waitFor(async () => (await t.db.select().from(larkOutbox).where(eq(larkOutbox.id, outboxId)))[0].status === 'sent', 15_000, 'sent');
    expect(await botMessages(chat.chat_id)).toHaveLength(2);
  });

  test('a claim that could not be released (database gone at that moment) is re-taken by the next redelivery at once', async () => {
    const u = await newLarkUser('Rhea');
    await bind(echoBot, u.id, owner);
    const payload = envelope({ appId: echoBot.appId, messageId: 'om_unreleased_1', chatId: 'oc_unreleased', senderOpenId: await openIdOf(sim, echoBot.appId, u.id), text: 'still here' });
    let databaseGone = false;
    const flaky = new Proxy(worker.db, {
      get(target, prop, receiver) {
        if (prop === 'execute' && databaseGone) return () => Promise.reject(new Error('connection terminated unexpectedly'));
        return Reflect.get(target, prop, receiver);
      },
    });
    // The dispatch transaction fails (its outbox row is refused), and from then on the database is
    // unreachable for this dispatcher, so it cannot release its claim either.
    const undo = await failOutboxInserts(t.pool, 'agent_offline');
    const flakyTransaction = new Proxy(flaky, {
      get(target, prop, receiver) {
        if (prop !== 'transaction') return Reflect.get(target, prop, receiver);
        return (...args: Parameters<typeof target.transaction>) =>
          target.transaction(...args).catch((err: unknown) => {
            databaseGone = true;
            throw err;
          });
      },
    });
    const abandoned = new AbandonedClaims();
    await t.db.update(agent).set({ runtimeKind: null }).where(eq(agent.id, echoBot.agentId));
    const failed = await dispatchInboundEvent({ ...deps(), db: flakyTransaction, abandoned }, { appId: echoBot.appId, payload });
    await t.db.update(agent).set({ runtimeKind: 'echo' }).where(eq(agent.id, echoBot.agentId));
    await undo();
    expect(failed.ack).toBe(500);
    const redelivered = await dispatchInboundEvent({ ...deps(), abandoned }, { appId: echoBot.appId, payload });
    expect(redelivered).toMatchObject({ ack: 200, result: { outcome: 'ingested' } });
    expect((await userMessagesIn('om_unreleased_1')).rows).toEqual([{ content: 'still here' }]);
  });

  test("a message from a Lark user who is not linked leaves an audit row with routing data only", async () => {
    const stranger = await newLarkUser('Quinn');
    const sent = await dm(echoBot, stranger.id, 'words that are not kept');
    const row = await waitFor(async () => (await t.db.select().from(larkInboundAudit).where(eq(larkInboundAudit.larkMessageId, sent.message_id)))[0], 10_000, 'audit row');
    expect(row).toMatchObject({ installationId: echoBot.installationId, dropReason: 'unbound_user', larkChatId: sent.chat_id });
    expect(JSON.stringify(row)).not.toContain('words that are not kept');
  });

  test('a text as long as Lark allows is stored once', async () => {
    const u = await newLarkUser('Wordy');
    await bind(echoBot, u.id, owner);
    const text = 'long '.repeat(24_000); // 120,000 characters, under Lark's 150 KB
    const sent = await dm(echoBot, u.id, text);
    const stored = await waitFor(async () => {
      const r = await userMessagesIn(sent.message_id);
      return r.rows.length > 0 && r.rows;
    }, 15_000, 'long message stored');
    expect(stored).toHaveLength(1);
    expect(stored[0].content.length).toBe(text.length);
  });

  test('a message that fails on every attempt ends as a recorded drop with ACK 200, not an endless retry', async () => {
    const u = await newLarkUser('Pat');
    await bind(echoBot, u.id, owner);
    const payload = envelope({ appId: echoBot.appId, messageId: 'om_poison_1', chatId: 'oc_poison', senderOpenId: await openIdOf(sim, echoBot.appId, u.id), text: 'poison' });
    const undo = await failOutboxInserts(t.pool, 'agent_offline');
    await t.db.update(agent).set({ runtimeKind: null }).where(eq(agent.id, echoBot.agentId));
    const acks: number[] = [];
    try {
      for (let i = 0; i < 12; i++) {
        const r = await dispatchInboundEvent(deps(), { appId: echoBot.appId, payload });
        acks.push(r.ack);
        if (r.ack === 200) {
          expect(r.result).toEqual({ outcome: 'dropped', reason: 'dispatch_failed' });
          break;
        }
      }
    } finally {
      await t.db.update(agent).set({ runtimeKind: 'echo' }).where(eq(agent.id, echoBot.agentId));
      await undo();
    }
    expect(acks.at(-1)).toBe(200);
    expect(acks.filter((a) => a === 500).length).toBeGreaterThan(1);
    const [audit] = await t.db.select().from(larkInboundAudit).where(eq(larkInboundAudit.larkMessageId, 'om_poison_1'));
    expect(audit.dropReason).toBe('dispatch_failed');
    // A later redelivery is a duplicate, not a new attempt.
    expect(await dispatchInboundEvent(deps(), { appId: echoBot.appId, payload })).toEqual({ ack: 200, result: { outcome: 'dropped', reason: 'duplicate' } });
  });

  test("the listing shows a bot as disconnected once its lease ran out, whatever its last recorded state", async () => {
    const bot = await installBot('Stale');
    await waitFor(async () => (await t.db.select().from(larkInstallation).where(eq(larkInstallation.id, bot.installationId)))[0].connectionState === 'connected', 10_000, 'connected');
    // As a crashed worker leaves it: "connected" recorded, lease past its expiry.
    await t.db.execute(sql`UPDATE lark_installation SET ws_lease_token = 'crashed-g1', ws_lease_expires_at = now() - interval '1 second', connection_state = 'connected' WHERE id = ${bot.installationId}`);
    const listing = await call(installationsRoute.GET, 'GET', { token: owner.token, params: { id: ws.id } });
    expect(listing.body.installations.find((i: { id: string }) => i.id === bot.installationId).connection.state).toBe('disconnected');
  });

  test('an installation that an install session refers to can be deleted', async () => {
    const bot = await installBot('Doomed');
    await t.db.insert(larkRegistrationSession).values({
      workspaceId: ws.id,
      agentId: bot.agentId,
      initiatorUserId: owner.id,
      region: 'feishu',
      deviceCodeCiphertext: integration.box!.seal('device'),
      qrCodeUrl: 'https://accounts.feishu.cn/verify?code=x',
      intervalSeconds: 5,
      expiresAt: sql`now() + interval '5 minutes'`,
      status: 'success',
      installationId: bot.installationId,
    });
    await expect(t.db.delete(larkInstallation).where(eq(larkInstallation.id, bot.installationId))).resolves.toBeDefined();
    expect(await t.db.select().from(larkRegistrationSession).where(eq(larkRegistrationSession.installationId, bot.installationId))).toHaveLength(0);
  });
});
