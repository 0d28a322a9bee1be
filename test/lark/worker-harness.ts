import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { SecretBox } from '@/server/crypto/secretbox';
import { larkUserBinding } from '@/server/db/schema';
import { parseEnv, resetEnvForTests, type Env } from '@/server/env';
import type { LarkIntegration } from '@/server/lark/integration';
import { startWorker, type RunningWorker, type WorkerOptions } from '@/worker/worker';
import { createTestDatabase } from '../db';
import { seedAgent } from '../seed';
import { installSimBot, openIdOf, startSim, waitFor } from './sim';

// What the Lark tests that run the in-process worker against the simulator share: a fresh database,
// the simulator, the environment the app and the worker both read, one Lark tenant, and the moves
// most scenarios start with (a connected bot, a Lark user, a link, a direct message).

/** Hub timings short enough that connections and retries settle within a test. */
const FAST_HUB = { leaseRenewMs: 300, sweepMs: 500, backoffMinMs: 50, backoffMaxMs: 500 };

export type LarkBot = { appId: string; appSecret: string; installationId: string; agentId: string; workspaceId: string; botUnionId: string | null };

/** A message of a chat's transcript, as the simulator's control API lists it. */
export type SimMessage = {
  message_id: string;
  sender: { type: string; id: string };
  msg_type: string;
  content: Record<string, unknown>;
  card_entity: { card_id: string; streaming_mode: boolean; summary: string | null; sequence: number } | null;
  root_id: string | null;
  thread_id: string | null;
  recalled_at: number | string | null;
  reactions: Array<{ emoji_type: string; operator: { type: string; id: string } }>;
  /** Reactions ever added, removed ones included. */
  reactions_added: number;
  /** The images and files the message names (image_key / file_key), with what the simulator stores for them. */
  media: Array<{ key: string; type: string; size?: number; file_name?: string | null; content_type?: string }>;
};

/** What the simulator answers when a Lark user sends a message. */
export type SentMessage = { message_id: string; chat_id: string; deliveries: Array<{ app_id: string; event_id: string }> };

export type LarkHarnessOptions = {
  /** Extra environment for the app and the worker. */
  env?: Record<string, string>;
  /** The tenant the bots and users belong to (default: a Feishu tenant named Acme). */
  tenant?: { brand: 'feishu' | 'lark'; name: string };
};

/** How an agent runs (default: the echo runtime). */
export type AgentRuntime = Pick<Parameters<typeof seedAgent>[1], 'runtimeKind' | 'runtimeConfig'>;

type WorkerExtras = { nodeId: string } & Pick<WorkerOptions, 'fetch' | 'gaugeRefreshMs' | 'ackThread'>;

export type LarkHarness = Awaited<ReturnType<typeof startLarkHarness>>;

/**
 * Starts the database and the simulator and points the environment at both; the worker starts
 * with `startWorker`, so a file can run without it (or start it later). `close` stops all of it.
 */
export async function startLarkHarness(opts: LarkHarnessOptions = {}) {
  const stops: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const stop of stops.splice(0)) await stop();
  };
  try {
    // The environment below points the app's db() at it (see useTestDatabase).
    const t = await createTestDatabase();
    stops.unshift(() => t.drop());
    const sim = await startSim({ redeliveryBackoffMs: 200, ackTimeoutMs: 3000 });
    stops.unshift(() => sim.close());
    const key = randomBytes(32);
    const envSource = {
      ...process.env,
      DATABASE_URL: t.url,
      APP_URL: 'http://localhost:3999',
      LARK_SECRET_KEY: key.toString('base64'),
      LARK_OPEN_BASE_URL: `${sim.url}/{region}`,
      LARK_ACCOUNTS_BASE_URL: `${sim.url}/{region}`,
      WORKER_POLL_INTERVAL_MS: '100',
      ...opts.env,
    };
    Object.assign(process.env, envSource);
    resetEnvForTests();
    const config: Env = parseEnv(envSource);
    const integration: LarkIntegration & { box: SecretBox } = {
      configured: true,
      box: new SecretBox(key),
      hosts: { openBaseUrl: envSource.LARK_OPEN_BASE_URL, accountsBaseUrl: envSource.LARK_ACCOUNTS_BASE_URL },
      httpTimeoutMs: 3000,
    };
    const tenant = opts.tenant ?? { brand: 'feishu', name: 'Acme' };
    const tenantKey: string = (await sim.control('POST', '/tenants', tenant)).tenant_key;
    let worker: RunningWorker | null = null;

    const transcript = async (chatId: string) => (await sim.control<{ messages: SimMessage[] }>('GET', `/chats/${chatId}/messages`)).messages;

    /** Has the running worker pick up new installations, and waits until it holds the bot's connection. */
    const waitConnected = async (bot: Pick<LarkBot, 'appId'>, name: string) => {
      worker!.hub!.requestSweep();
      await waitFor(async () => (await sim.control('GET', `/apps/${bot.appId}`)).connections === 1, 10_000, `${name} connected`);
    };

    return {
      t,
      sim,
      key,
      config,
      integration,
      tenantKey,
      get worker() {
        return worker;
      },

      async startWorker(extras: WorkerExtras): Promise<RunningWorker> {
        const started = await startWorker({ config, integration, logger: pino({ level: 'silent' }), hubConfig: FAST_HUB, opsPort: 0, ...extras });
        worker = started;
        stops.unshift(() => started.stop());
        return started;
      },

      waitConnected,

      /** Seeds an agent and installs it as a bot of the tenant; with the worker running, returns once the bot is connected. */
      async installBot(input: {
        workspaceId: string;
        installer: { id: string };
        name: string;
        runtime?: AgentRuntime;
        region?: 'feishu' | 'lark';
      }): Promise<LarkBot> {
        const { workspaceId, installer, name } = input;
        const a = await seedAgent(t.db, { workspaceId, ownerUserId: installer.id, name, ...input.runtime });
        const bot = await installSimBot(t.db, sim, integration.box, { tenantKey, workspaceId, agentId: a.id, installerUserId: installer.id, name, region: input.region });
        if (worker) await waitConnected(bot, name);
        return { appId: bot.appId, appSecret: bot.appSecret, installationId: bot.installation.id, agentId: a.id, workspaceId, botUnionId: bot.installation.botUnionId };
      },

      newUser: (name: string) => sim.control<{ id: string }>('POST', '/users', { tenant_key: tenantKey, name }),

      /** Links a Lark user to a member of the bot's workspace directly (the redeem flow has its own tests). */
      async bind(bot: LarkBot, larkUserId: string, member: { id: string }, larkName: string | null = null) {
        const larkOpenId = await openIdOf(sim, bot.appId, larkUserId);
        const [row] = await t.db.insert(larkUserBinding).values({ workspaceId: bot.workspaceId, installationId: bot.installationId, userId: member.id, larkOpenId, larkName }).returning();
        return row;
      },

      /** A Lark user writes to the bot in their direct chat with it. */
      dm: (bot: Pick<LarkBot, 'appId'>, larkUserId: string, text: string, extra: Record<string, unknown> = {}) =>
        sim.control<SentMessage>('POST', '/messages', { user_id: larkUserId, app_id: bot.appId, text, ...extra }),

      transcript,

      /** The chat's messages sent by bots. */
      botMessages: async (chatId: string) => (await transcript(chatId)).filter((m) => m.sender.type === 'app'),

      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** A v2 event envelope as the platform sends it, for driving the dispatcher directly. */
export function larkEvent(input: { appId: string; tenantKey: string; eventType: string; event: Record<string, unknown>; eventId?: string }): string {
  return JSON.stringify({
    schema: '2.0',
    header: {
      event_id: input.eventId ?? `ev_${randomBytes(6).toString('hex')}`,
      event_type: input.eventType,
      create_time: String(Date.now()),
      token: '',
      app_id: input.appId,
      tenant_key: input.tenantKey,
    },
    event: input.event,
  });
}

/** A person's text message as an `im.message.receive_v1` event; a thread id makes it part of that topic. */
export function textMessageEvent(input: {
  appId: string;
  tenantKey: string;
  messageId: string;
  chatId: string;
  chatType?: 'p2p' | 'group';
  senderOpenId: string;
  text: string;
  threadId?: string;
  rootId?: string;
  mentions?: unknown[];
}): string {
  return larkEvent({
    appId: input.appId,
    tenantKey: input.tenantKey,
    eventType: 'im.message.receive_v1',
    event: {
      sender: { sender_id: { open_id: input.senderOpenId, union_id: 'on_sender', user_id: 'u_sender' }, sender_type: 'user', tenant_key: input.tenantKey },
      message: {
        message_id: input.messageId,
        chat_id: input.chatId,
        chat_type: input.chatType ?? 'p2p',
        ...(input.threadId ? { thread_id: input.threadId, root_id: input.rootId ?? `om_root_${input.threadId}` } : {}),
        message_type: 'text',
        content: JSON.stringify({ text: input.text }),
        create_time: String(Date.now()),
        mentions: input.mentions ?? [],
      },
    },
  });
}
