import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@/simulator/server';
import { LarkHttpClient } from '../api/http-client';
import type { FetchLike } from '../api/request';
import { TenantTokenCache } from '../api/tenant-token-cache';
import { capturingLogger, waitFor } from '../test-support/fake-lark-ws';
import { SimControl, type SimApp, type SimUser } from '../test-support/sim-control';
import { runConnector, type ConnectorExit, type ConnectorOptions, type ConnectorStatus, type DeliveryVerdict } from './connector';
import { decodeInboundEvent, type InboundMessage } from './event-decoder';
import { isBotMentioned, rewriteMentionsForAgent } from './mentions';

let sim: Simulator;
let control: SimControl;
let tenantKey: string;
let user: SimUser;
let app: SimApp;
let controllers: AbortController[] = [];
let runs: Promise<ConnectorExit>[] = [];

beforeAll(async () => {
  sim = await startSimulator({ port: 0, ackTimeoutMs: 1000, redeliveryBackoffMs: 50 });
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

afterEach(async () => {
  for (const controller of controllers) controller.abort();
  await Promise.all(runs);
  controllers = [];
  runs = [];
});

type Received = { message: InboundMessage | null; deliveryId: string };

function connect(options: { forApp?: SimApp; verdict?: (received: Received, attempt: number) => DeliveryVerdict } & Partial<ConnectorOptions> = {}) {
  const target = options.forApp ?? app;
  const controller = new AbortController();
  controllers.push(controller);
  const received: Received[] = [];
  const statuses: ConnectorStatus[] = [];
  const { logger, lines } = capturingLogger();
  const exit = runConnector(
    {
      appId: target.app_id,
      appSecret: target.app_secret,
      openBaseUrl: control.brandRoot(target.brand),
      logger,
      onStatus: (status) => statuses.push(status),
      ...options,
      handler: async (delivery) => {
        const decoded = decodeInboundEvent(delivery.payload);
        const entry = { message: decoded.kind === 'message' ? decoded.message : null, deliveryId: delivery.deliveryId };
        received.push(entry);
        const attempt = received.filter((r) => r.message?.eventId === entry.message?.eventId).length;
        return options.verdict ? options.verdict(entry, attempt) : 'ok';
      },
    },
    controller.signal,
  );
  runs.push(exit);
  return { controller, exit, received, statuses, logLines: lines };
}

async function connected(appId: string, count = 1): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    if ((await control.getApp(appId)).connections === count) return;
    if (Date.now() > deadline) throw new Error(`app never reached ${count} connections`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function settledDeliveries(appId: string, predicate: (d: Awaited<ReturnType<SimControl['deliveries']>>) => boolean) {
  const deadline = Date.now() + 8000;
  for (;;) {
    const deliveries = await control.deliveries(appId);
    if (predicate(deliveries)) return deliveries;
    if (Date.now() > deadline) throw new Error(`deliveries never settled: ${JSON.stringify(deliveries)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('connector against the simulator', () => {
  it('connects and shows up as one open connection of the app', async () => {
    const { statuses } = connect();
    await connected(app.app_id);
    expect(statuses.some((s) => s.state === 'connected')).toBe(true);
  });

  it('adopts a new ping interval sent in a pong (push_client_config) and stays alive with pings', async () => {
    await control.addFault({ kind: 'push_client_config', app_id: app.app_id, PingInterval: 1, ReconnectCount: 5, ReconnectInterval: 3, ReconnectNonce: 1 });
    const { statuses, exit } = connect({ silenceMarginMs: 1500 });
    await waitFor(() => statuses.at(-1)?.clientConfig.pingIntervalMs === 1000, { what: 'adopted ping interval' });
    expect(statuses.at(-1)?.clientConfig).toMatchObject({ reconnectCount: 5, reconnectIntervalMs: 3000, reconnectNonceMs: 1000 });
    // Several intervals later the connection is still up: the simulator answered our pings.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await Promise.race([exit.then((e) => e.reason), Promise.resolve('running')])).toBe('running');
    expect((await control.getApp(app.app_id)).connections).toBe(1);
  });

  it('receives a message, decodes it and ACKs with code 200 and biz_rt', async () => {
    const { received } = connect();
    await connected(app.app_id);
    const sent = await control.sendMessage({ user_id: user.id, app_id: app.app_id, text: 'hello bot' });
    await waitFor(() => received.length === 1, { what: 'event' });
    const message = received[0].message as InboundMessage;
    expect(message).toMatchObject({ messageId: sent.message_id, chatType: 'p2p', text: 'hello bot', messageType: 'text', appId: app.app_id });
    expect(message.sender.unionId).toBe(user.union_id);
    expect(message.sender.openId).toBe(await control.openIdOf(app.app_id, user.id));
    const [delivery] = await settledDeliveries(app.app_id, (d) => d.length === 1 && d[0].status === 'acked');
    // The delivery log's message_id is the frame-level delivery id; event_id links it to the event.
    expect(delivery.event_id).toBe(message.eventId);
    expect(delivery.message_id).toBe(received[0].deliveryId);
    expect(delivery.im_message_id).toBe(sent.message_id);
    expect(delivery.attempts).toBe(1);
    expect(delivery.acks).toHaveLength(1);
    expect(delivery.acks[0].code).toBe(200);
    expect(delivery.acks[0].biz_rt).not.toBeNull();
    expect(Number(delivery.acks[0].biz_rt)).toBeGreaterThanOrEqual(0);
  });

  it('reassembles a chunked event (chunk_events) and delivers it once with one ACK', async () => {
    await control.addFault({ kind: 'chunk_events', app_id: app.app_id, chunk_bytes: 128 });
    const { received } = connect();
    await connected(app.app_id);
    const text = `long message ${'x'.repeat(1500)} end`;
    await control.sendMessage({ user_id: user.id, app_id: app.app_id, text });
    const [delivery] = await settledDeliveries(app.app_id, (d) => d.length === 1 && d[0].status === 'acked');
    expect(received).toHaveLength(1);
    expect(received[0].message?.text).toBe(text);
    expect(delivery.acks).toHaveLength(1);
    expect(delivery.acks[0].code).toBe(200);
  });

  it('answers 500 when the handler asks to retry, and the platform redelivers', async () => {
    const { received } = connect({ verdict: (_r, attempt) => (attempt === 1 ? 'retry' : 'ok') });
    await connected(app.app_id);
    await control.sendMessage({ user_id: user.id, app_id: app.app_id, text: 'try twice' });
    const [delivery] = await settledDeliveries(app.app_id, (d) => d.length === 1 && d[0].status === 'acked');
    expect(delivery.acks.map((a) => a.code)).toEqual([500, 200]);
    expect(delivery.attempts).toBe(2);
    expect(received.map((r) => r.message?.text)).toEqual(['try twice', 'try twice']);
  });

  it('ACKs every duplicate delivery (duplicate_deliveries) with the same event id', async () => {
    await control.addFault({ kind: 'duplicate_deliveries', app_id: app.app_id, count: 2 });
    const { received } = connect();
    await connected(app.app_id);
    await control.sendMessage({ user_id: user.id, app_id: app.app_id, text: 'dup' });
    await waitFor(() => received.length >= 2, { what: 'duplicates' });
    expect(new Set(received.map((r) => r.message?.eventId)).size).toBe(1);
    expect(new Set(received.map((r) => r.message?.messageId)).size).toBe(1);
  });

  it('returns within 100 ms when aborted during a blocked read, and the connection goes away', async () => {
    const { controller, exit } = connect();
    await connected(app.app_id);
    const startedAt = performance.now();
    controller.abort();
    const result = await exit;
    expect(performance.now() - startedAt).toBeLessThan(100);
    expect(result.reason).toBe('aborted');
    await connected(app.app_id, 0);
  });

  it('detects a silent connection (silent_connection) with a small ping interval', async () => {
    await control.addFault({ kind: 'push_client_config', app_id: app.app_id, PingInterval: 1, ReconnectCount: -1, ReconnectInterval: 2, ReconnectNonce: 0 });
    const { statuses, exit } = connect({ silenceMarginMs: 300 });
    await waitFor(() => statuses.at(-1)?.clientConfig.pingIntervalMs === 1000, { what: 'small interval' });
    await control.addFault({ kind: 'silent_connection', app_id: app.app_id });
    const result = await exit;
    expect(result.reason).toBe('silent');
    expect(result.clientConfig.reconnectIntervalMs).toBe(2000);
  });

  it("notices a half-open connection within seconds at the platform's 120 s ping interval, by probing it", async () => {
    const { exit } = connect({ livenessProbeMs: 200, livenessTimeoutMs: 600 });
    await connected(app.app_id);
    await control.addFault({ kind: 'silent_connection', app_id: app.app_id });
    const result = await exit;
    expect(result.reason).toBe('silent');
    expect(result.clientConfig.pingIntervalMs).toBe(120_000);
  });

  it('keeps a quiet but healthy connection: the platform answers the probes', async () => {
    const { exit, statuses } = connect({ livenessProbeMs: 100, livenessTimeoutMs: 300 });
    await connected(app.app_id);
    await new Promise((r) => setTimeout(r, 1500));
    const outcome = await Promise.race([exit.then((e) => e.reason), Promise.resolve('still open')]);
    expect(outcome).toBe('still open');
    expect(statuses.at(-1)?.state).toBe('connected');
  });

  it('reports the platform dropping the connection (drop_connections)', async () => {
    const { exit } = connect();
    await connected(app.app_id);
    await control.addFault({ kind: 'drop_connections', app_id: app.app_id });
    expect((await exit).reason).toBe('closed');
  });

  it('fails bootstrap fatally with wrong credentials', async () => {
    const { exit } = connect({ appSecret: 'wrong-secret' });
    const result = await exit;
    if (result.reason !== 'bootstrap_failed') throw new Error(`unexpected ${result.reason}`);
    expect(result.error.kind).toBe('fatal');
  });

  // The platform answers a used ticket with HTTP 403 but handshake-status 514 (not the connection
  // limit): like the Go SDK, that is not final, since the next bootstrap brings a fresh ticket.
  it('reports the platform refusing a used ticket as a retryable dial failure', async () => {
    // Replays the first bootstrap reply, so the second connect dials a ticket that was already used.
    let firstReply: string | null = null;
    const replayingFetch: FetchLike = async (input, init) => {
      const response = await fetch(input, init);
      if (!input.endsWith('/callback/ws/endpoint')) return response;
      firstReply ??= await response.text();
      return new Response(firstReply, { status: response.status, headers: { 'content-type': 'application/json' } });
    };
    const first = connect({ fetch: replayingFetch });
    await connected(app.app_id);
    first.controller.abort();
    await first.exit;
    const second = connect({ fetch: replayingFetch });
    const result = await second.exit;
    expect(result).toMatchObject({ reason: 'dial_failed', retryable: true });
    expect(second.logLines.join('\n')).not.toMatch(/ticket|access_key|ws:\/\//);
  });

  it('logs why the bootstrap was refused (wrong credentials), without the secret', async () => {
    const { exit, logLines } = connect({ appSecret: 'wrong-secret-never-logged' });
    await exit;
    const failure = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'lark ws bootstrap failed');
    expect(failure).toMatchObject({ code: 514, kind: 'fatal' });
    expect(String(failure?.detail)).toMatch(/code 514 \(.+\)/);
    expect(logLines.join('')).not.toContain('wrong-secret-never-logged');
  });

  it('never logs the secret or the single-use URL', async () => {
    const { logLines, received, controller, exit } = connect();
    await connected(app.app_id);
    await control.sendMessage({ user_id: user.id, app_id: app.app_id, text: 'x' });
    await waitFor(() => received.length === 1);
    controller.abort();
    await exit;
    const logs = logLines.join('\n');
    expect(logs).not.toContain(app.app_secret);
    expect(logs).not.toMatch(/ticket|access_key|ws:\/\//);
  });

  it('decodes a post with a bot mention, a link and a code block, and strips the bot for the agent', async () => {
    const { received } = connect();
    await connected(app.app_id);
    const chatId = await control.createChat({ tenant_key: tenantKey, name: 'Team', user_ids: [user.id], app_ids: [app.app_id] });
    await control.sendMessage({
      user_id: user.id,
      chat_id: chatId,
      post: {
        title: 'Plan',
        content: [
          [
            { tag: 'at', app_id: app.app_id },
            { tag: 'text', text: ' read ' },
            { tag: 'a', href: 'https://example.com/spec', text: 'the spec' },
          ],
          [{ tag: 'code_block', language: 'bash', text: 'npm test\n' }],
        ],
      },
    });
    await waitFor(() => received.length === 1, { what: 'post event' });
    const message = received[0].message as InboundMessage;
    expect(message.messageType).toBe('post');
    const api = new LarkHttpClient({
      appId: app.app_id,
      appSecret: app.app_secret,
      region: 'feishu',
      hosts: { openBaseUrl: control.hostOverride },
      tokenCache: new TenantTokenCache(),
    });
    const bot = await api.getBotInfo();
    const self = { openId: bot.openId, unionId: (await api.getUser(bot.openId)).unionId };
    expect(isBotMentioned(message.mentions, self)).toBe(true);
    expect(rewriteMentionsForAgent(message.text, message.mentions, self)).toBe(
      ['Plan', 'read the spec (https://example.com/spec)', '```bash', 'npm test', '```'].join('\n'),
    );
  });

  it('routes group mentions by union_id and rewrites them for the agent, with two bots in the chat', async () => {
    const other = await control.createApp(tenantKey, 'Other Bot', user.id);
    const chatId = await control.createChat({ tenant_key: tenantKey, name: 'Team', user_ids: [user.id], app_ids: [app.app_id, other.app_id] });
    const mine = connect();
    const theirs = connect({ forApp: other });
    await connected(app.app_id);
    await connected(other.app_id);

    const identity = async (target: SimApp) => {
      const client = new LarkHttpClient({
        appId: target.app_id,
        appSecret: target.app_secret,
        region: 'feishu',
        hosts: { openBaseUrl: control.hostOverride },
        tokenCache: new TenantTokenCache(),
      });
      const bot = await client.getBotInfo();
      const union = await client.getUser(bot.openId);
      return { openId: bot.openId, unionId: union.unionId };
    };
    const myBot = await identity(app);
    const otherBot = await identity(other);
    expect(myBot.unionId).toBe((await control.getApp(app.app_id)).bot_union_id);

    await control.sendMessage({
      user_id: user.id,
      chat_id: chatId,
      text: `@{app:${app.app_id}} please sync with @{app:${other.app_id}}`,
    });
    await waitFor(() => mine.received.length === 1 && theirs.received.length === 1, { what: 'group deliveries' });
    const seenByMe = mine.received[0].message as InboundMessage;
    const seenByOther = theirs.received[0].message as InboundMessage;
    expect(seenByMe.messageId).toBe(seenByOther.messageId);
    expect(isBotMentioned(seenByMe.mentions, myBot)).toBe(true);
    expect(isBotMentioned(seenByOther.mentions, otherBot)).toBe(true);
    expect(rewriteMentionsForAgent(seenByMe.text, seenByMe.mentions, myBot)).toBe('please sync with @Other Bot');

    // Only the mentioned bot sees itself addressed.
    await control.sendMessage({ user_id: user.id, chat_id: chatId, text: `@{app:${other.app_id}} only you` });
    await waitFor(() => mine.received.length === 2 && theirs.received.length === 2);
    expect(isBotMentioned((mine.received[1].message as InboundMessage).mentions, myBot)).toBe(false);
    expect(isBotMentioned((theirs.received[1].message as InboundMessage).mentions, otherBot)).toBe(true);
    // The open_id fallback would misroute here: the event's open_id for a bot is not its API open_id.
    const mentionOfMe = seenByMe.mentions.find((m) => m.unionId === myBot.unionId);
    expect(mentionOfMe?.openId).not.toBe(myBot.openId);
  });
});
