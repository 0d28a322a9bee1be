// `npm run bench:inbound`: the real worker (hub, dispatcher, task runner, outbox), started as its own
// process exactly as in production, against the simulator. Only Lark users' DMs sent through the
// simulator drive it. Phases, after a warm-up that opens every chat's session:
//   steady      BENCH_RATE events/s with the instant echo agent: ACK latency, ingest rate, statements
//               per message over its whole life (pg_stat_statements), reply latency, CPU;
//   saturation  as many DMs as the worker takes: ingest rate, exactly once;
//   model       BENCH_RATE events/s with every agent answering after BENCH_MODEL_DELAY_MS (the echo
//               runtime's simulated model latency): reply latency, ACK latency;
//   burst       DMs across every chat as fast as they go, same latency: agent runs in flight, replies
//               per second, ACK latency, memory per run.
// Each figure is printed with its phase and, with its goal, as MET or MISSED under "goals:".
//
// Sizes: BENCH_INSTALLATIONS (50), BENCH_USERS_PER_INSTALLATION (40: one DM chat each), BENCH_RATE
// (200 events/s), BENCH_SECONDS (20), BENCH_SATURATION_MESSAGES (3000), BENCH_SATURATION_CONCURRENCY
// (64), BENCH_MODEL_DELAY_MS (2000), BENCH_MODEL_SECONDS (20), BENCH_BURST_MESSAGES (3000),
// BENCH_BURST_RATE (550 events/s), BENCH_DRAIN_SECONDS (45), BENCH_WARMUP_SECONDS (120, the longest wait
// for the warm-up's replies), BENCH_IDLE_SECONDS (3), BENCH_IMAGE_SHARE (0.1: one DM in ten is a post with a
// screenshot, downloaded after the ACK). Worker settings (product defaults when unset):
// BENCH_WORKER_CONCURRENCY, BENCH_WORKER_DB_POOL_SIZE, BENCH_DISPATCH_CONCURRENCY, BENCH_DISPATCH_DB_POOL_SIZE. Simulator:
// BENCH_SIM_MAX_ATTEMPTS (sends per event; Lark's 4 when unset). BENCH_STATEMENTS=1 lists the
// statements per message (and tracks their planning, which slows the server). BENCH_WORKER_CPU_PROF=<dir> writes a CPU profile of the worker there when it stops.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createDb, createPool } from '../../server/db/client';
import { applyMigrations } from '../../server/db/migrate';
import { agent, larkInstallation, larkUserBinding, member, user, workspace } from '../../server/db/schema';
import { SecretBox } from '../../server/crypto/secretbox';
import { parseEnv } from '../../server/env';
import { resolveConfig, type SimulatorOptions } from '../../simulator/config';
import { startSimulator, type Simulator } from '../../simulator/server';
import { ensureDatabase, freePort, startEmbeddedPostgres, type EmbeddedServer } from '../embedded-postgres';
import { isRunning, logSummary, logTail, startWorkerProcess, stopWorkerProcess, type WorkerProcess } from '../worker-process';
import { enableStatementTracking, readStatements, resetStatements, statementTrackingFlags, type StatementWindow } from './query-counter';
import { describeBackends, describeUsage, LOOP_SAMPLE_MS, measureUsage, postmasterPid, processMemory, memoryPerRun, sampleBackends, type PhaseUsage } from './usage';
import { setting } from './settings';

/** BENCH_IMAGE_SHARE: 0 (text only) to 1 (every DM with an image); 0.1 when unset. */
function imageShare(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0.1;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new Error(`BENCH_IMAGE_SHARE must be a number from 0 to 1, got ${raw}`);
  return value;
}

function optionalSetting(name: string): number | undefined {
  const value = setting(name, Number.NaN);
  return Number.isNaN(value) ? undefined : Math.round(value);
}

const INSTALLATIONS = Math.round(setting('BENCH_INSTALLATIONS', 50));
const USERS_PER_INSTALLATION = Math.round(setting('BENCH_USERS_PER_INSTALLATION', 40));
/** One DM chat per Lark user and bot: a chat's messages run strictly in order, so concurrency needs chats. */
const CHATS = INSTALLATIONS * USERS_PER_INSTALLATION;
const RATE = setting('BENCH_RATE', 200);
const SECONDS = setting('BENCH_SECONDS', 20);
const SATURATION_MESSAGES = Math.round(setting('BENCH_SATURATION_MESSAGES', 3000));
const SATURATION_CONCURRENCY = Math.round(setting('BENCH_SATURATION_CONCURRENCY', 64));
const MODEL_DELAY_MS = Math.round(setting('BENCH_MODEL_DELAY_MS', 2000));
const MODEL_SECONDS = setting('BENCH_MODEL_SECONDS', 20);
/** How fast a streaming answer of the model phase is written: one word per this many ms. */
const MODEL_WORD_DELAY_MS = Math.round(setting('BENCH_MODEL_WORD_DELAY_MS', 100));
const BURST_MESSAGES = Math.round(setting('BENCH_BURST_MESSAGES', 3000));
/** The share of DMs that carry a screenshot (a post: the words and an image), downloaded by the worker after the ACK. */
const IMAGE_SHARE = imageShare(process.env.BENCH_IMAGE_SHARE);
const IMAGE_EVERY = IMAGE_SHARE > 0 ? Math.max(1, Math.round(1 / IMAGE_SHARE)) : 0;
// 1,000 runs of 2 s in flight need at least 500 new messages a second: the burst offers a little more.
const BURST_RATE = setting('BENCH_BURST_RATE', 550);
const DRAIN_SECONDS = setting('BENCH_DRAIN_SECONDS', 45);
const WARMUP_SECONDS = setting('BENCH_WARMUP_SECONDS', 120);
/** A drain ends early once the backlog has not changed for this long: the worker is stuck, not slow. */
const DRAIN_STALL_MS = 15_000;
const IDLE_SECONDS = setting('BENCH_IDLE_SECONDS', 3);
const WORKER_CONCURRENCY = optionalSetting('BENCH_WORKER_CONCURRENCY');
const WORKER_DB_POOL_SIZE = optionalSetting('BENCH_WORKER_DB_POOL_SIZE');
const DISPATCH_CONCURRENCY = optionalSetting('BENCH_DISPATCH_CONCURRENCY');
const DISPATCH_DB_POOL_SIZE = optionalSetting('BENCH_DISPATCH_DB_POOL_SIZE');
const SIM_MAX_ATTEMPTS = optionalSetting('BENCH_SIM_MAX_ATTEMPTS');
const LIST_STATEMENTS = process.env.BENCH_STATEMENTS === '1';

const GOAL_ACK_P99_MS = 100;
const GOAL_ACK_RATE = 200;
const GOAL_SATURATION_PER_SECOND = 300;
const GOAL_STATEMENTS_PER_MESSAGE = 15;
const GOAL_REPLY_P99_MS = 2000;
const GOAL_MODEL_DELAY_MS = 2000;
/** Reply latency with a model may exceed the model's own latency by this much. */
const GOAL_MODEL_OVERHEAD_MS = 2000;
const GOAL_RUNS_IN_FLIGHT = 1000;
const GOAL_BURST_REPLIES_PER_SECOND = 200;

/** application_name of the worker's own connections (pg-boss names its pool 'larkspur-jobs'). */
const WORKER_APP_NAME = 'larkspur-worker';
/** The benchmark's probes run as this role, so pg_stat_statements keeps them apart from the worker's. */
const PROBE_ROLE = 'bench_probe';

type SimDelivery = {
  event_id: string;
  message_id: string;
  im_message_id: string;
  attempts: number;
  acks: Array<{ code: number | null; biz_rt: string | null; at: number }>;
  status: 'pending' | 'acked' | 'failed';
  created_at: number;
};
type SimChatMessage = { sender: { type: 'user' | 'app' }; content: unknown; create_time: number; card_entity?: { card_id: string } | null };
type SimCardOp = { at: number; kind: string; code: number };
/** A Lark user's DM chat with one bot; the chat id is known once the first DM is sent. */
type Chat = { appId: string; simUserId: string; chatId: string | null; installation: number; user: number };

const key = randomBytes(32);
const box = new SecretBox(key);

// ---- simulator control API ----

// The load generator shares the simulator's process: its requests skip HTTP, which would otherwise
// take the machine's CPU from the worker and PostgreSQL under test.
async function control<T>(base: string, method: string, route: string, body?: unknown): Promise<T> {
  if (sim && base === sim.url) {
    const reply = await sim.controlInProcess(method, route, body);
    if (reply.status >= 400) throw new Error(`${method} ${route}: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body as T;
  }
  const res = await fetch(`${base}/_control${route}`, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** Runs `fn` over `items` with at most `limit` at once. */
async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

/** IM message id -> text of every DM sent, to tell which message a simulator delivery carried. */
const sentTexts = new Map<string, string>();
/** IM message ids of the DMs sent with an image. */
const imageMessages = new Set<string>();
let dmsSent = 0;

/** A Lark user's DM, posted as the simulator's control API takes it, in process (see `control`). */
async function sendDm(sim: Simulator, chat: Chat, text: string, withImage = IMAGE_EVERY > 0 && dmsSent++ % IMAGE_EVERY === 0): Promise<{ chat_id: string }> {
  const body = withImage
    ? { user_id: chat.simUserId, app_id: chat.appId, post: { content: [[{ tag: 'text', text }], [{ tag: 'img', sample: 'screenshot' }]] } }
    : { user_id: chat.simUserId, app_id: chat.appId, text };
  const sent = await control<{ chat_id: string; message_id: string }>(sim.url, 'POST', '/messages', body);
  sentTexts.set(sent.message_id, text);
  if (withImage) imageMessages.add(sent.message_id);
  chat.chatId ??= sent.chat_id;
  return sent;
}

type Sent = { start: number; end: number; failures: number; maxBehind: number };

/** Message n goes to chat n mod chats, so consecutive messages reach different bots and chats. */
function sendPaced(sim: Simulator, chats: Chat[], prefix: string, count: number, rate: number): Promise<Sent> {
  const start = Date.now();
  return new Promise((resolve) => {
    const startedAt = performance.now();
    let next = 0;
    let inFlight = 0;
    let completed = 0;
    let failures = 0;
    let maxBehind = 0;
    const maxInFlight = 256;
    const launch = (n: number) => {
      inFlight += 1;
      sendDm(sim, chats[n % chats.length], messageText(prefix, n))
        .catch(() => (failures += 1))
        .finally(() => {
          inFlight -= 1;
          completed += 1;
          if (completed === count) resolve({ start, end: Date.now(), failures, maxBehind });
        });
    };
    const tick = () => {
      const due = Math.min(count, Math.floor(((performance.now() - startedAt) * rate) / 1000) + 1);
      while (next < due && inFlight < maxInFlight) launch(next++);
      maxBehind = Math.max(maxBehind, due - next);
      if (next < count) setTimeout(tick, 2);
    };
    tick();
  });
}

/** As fast as `concurrency` sends in flight allow. */
async function sendBurst(sim: Simulator, chats: Chat[], prefix: string, count: number, concurrency: number): Promise<Sent> {
  const start = Date.now();
  let failures = 0;
  await inParallel(
    Array.from({ length: count }, (_, n) => n),
    concurrency,
    async (n) => {
      await sendDm(sim, chats[n % chats.length], messageText(prefix, n)).catch(() => (failures += 1));
    },
  );
  return { start, end: Date.now(), failures, maxBehind: 0 };
}

async function deliveriesSince(simUrl: string, appIds: string[], since: number): Promise<SimDelivery[]> {
  const all: SimDelivery[] = [];
  for (const appId of appIds) {
    const { deliveries } = await control<{ deliveries: SimDelivery[] }>(simUrl, 'GET', `/deliveries?app_id=${appId}`);
    all.push(...deliveries.filter((d) => d.created_at >= since));
  }
  return all;
}

type Transcript = {
  /** Token -> when the user's message entered the chat. */
  sentAt: Map<string, number>;
  /** Token -> the first bot message quoting it. */
  repliedAt: Map<string, number>;
  /** Every bot message quoting a token of the prefix, as the simulator stamped it. */
  replyTimes: number[];
};

/** The DM transcripts as the simulator holds them: what users sent and what the bots answered. */
async function readTranscripts(simUrl: string, chats: Chat[], prefix: string): Promise<Transcript> {
  const t: Transcript = { sentAt: new Map(), repliedAt: new Map(), replyTimes: [] };
  const chatIds = [...new Set(chats.map((c) => c.chatId).filter((id): id is string => id !== null))];
  await inParallel(chatIds, 16, async (chatId) => {
    const { messages } = await control<{ messages: SimChatMessage[] }>(simUrl, 'GET', `/chats/${chatId}/messages`);
    for (const m of messages) {
      const found = tokenPattern.exec(JSON.stringify(m.content))?.[1];
      if (!found?.startsWith(prefix)) continue;
      // A streamed answer is complete when its card is closed (the last full update), not when the card first showed.
      const at = m.card_entity ? await cardClosedAt(simUrl, m.card_entity.card_id, Number(m.create_time)) : Number(m.create_time);
      if (m.sender.type === 'user') t.sentAt.set(found, at);
      else {
        t.replyTimes.push(at);
        if (!t.repliedAt.has(found) || t.repliedAt.get(found)! > at) t.repliedAt.set(found, at);
      }
    }
  });
  return t;
}

type Replies = { latencies: number[]; unanswered: number; p99: number; extra: number };

/** Reply latencies; a message that got no answer counts as infinitely late in the p99. */
function replyFigures(t: Transcript, sent: number): Replies {
  const latencies: number[] = [];
  for (const [tok, at] of t.repliedAt) {
    const sentAt = t.sentAt.get(tok);
    if (sentAt !== undefined) latencies.push(at - sentAt);
  }
  const unanswered = Math.max(0, sent - latencies.length);
  const padded = [...latencies, ...Array<number>(unanswered).fill(Number.POSITIVE_INFINITY)].sort((a, b) => a - b);
  return { latencies, unanswered, p99: percentile(padded, 99), extra: t.replyTimes.length - t.repliedAt.size };
}

async function cardOpsOf(simUrl: string, cardId: string): Promise<SimCardOp[]> {
  return (await control<{ ops: SimCardOp[] }>(simUrl, 'GET', `/cards/${cardId}`)).ops;
}

/** When a streamed card got its final text: its last applied full update. */
async function cardClosedAt(simUrl: string, cardId: string, fallback: number): Promise<number> {
  const closes = (await cardOpsOf(simUrl, cardId)).filter((o) => o.kind === 'update' && o.code === 0);
  return closes.at(-1)?.at ?? fallback;
}

type CardFigures = { cards: number; operations: number; refused: number; maxPerCardPerSecond: number };

/**
 * CardKit operations the simulator served for cards created since `since`: every card operation
 * (create, streamed text, settings, full update), the ones it refused, and the most any one card got
 * in a second (Lark's limit is 10).
 */
async function cardFigures(simUrl: string, appIds: string[], since: number): Promise<CardFigures> {
  const figures: CardFigures = { cards: 0, operations: 0, refused: 0, maxPerCardPerSecond: 0 };
  await inParallel(appIds, 8, async (appId) => {
    const { cards } = await control<{ cards: Array<{ card_id: string; created_at: number }> }>(simUrl, 'GET', `/cards?app_id=${appId}`);
    await inParallel(
      cards.filter((c) => c.created_at >= since),
      8,
      async (card) => {
        const ops = await cardOpsOf(simUrl, card.card_id);
        figures.cards++;
        figures.operations += ops.length;
        figures.refused += ops.filter((o) => o.code !== 0).length;
        for (const o of ops) figures.maxPerCardPerSecond = Math.max(figures.maxPerCardPerSecond, ops.filter((p) => p.at >= o.at && p.at < o.at + 1000).length);
      },
    );
  });
  return figures;
}

// ---- the worker process ----

/** Figures taken after the worker died would describe nothing. */
async function assertWorkerRunning(w: WorkerProcess, phase: string): Promise<void> {
  if (!isRunning(w)) throw new Error(`the worker exited during ${phase} (${w.child.exitCode ?? w.child.signalCode}):\n${await logTail(w)}`);
}

type WorkerScrape = { at: number; counters: Map<string, number>; loopLagMs: { p50: number; p99: number; max: number } | null };

/**
 * The worker's own /metrics: dispatch outcomes and ACK codes, and its event loop delay since the
 * previous scrape (prom-client resets that histogram on every scrape). A scrape runs the worker's two
 * outbox and registration gauge queries.
 */
async function scrapeWorker(port: number): Promise<WorkerScrape> {
  const counters = new Map<string, number>();
  const gauges = new Map<string, number>();
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const m of text.matchAll(/^larkspur_lark_(dispatch_outcomes|acks|events_received|ack_thread_busy_seconds)_total(?:\{\w+="([^"]*)"\})? (\S+)$/gm)) {
      counters.set(m[2] === undefined ? m[1] : `${m[1]} ${m[2]}`, Number(m[3]));
    }
    // The histogram records whole sampling intervals (prom-client's default is LOOP_SAMPLE_MS); the excess is the delay.
    for (const m of text.matchAll(/^larkspur_worker_nodejs_eventloop_lag_(p50|p99|max)_seconds (\S+)$/gm)) gauges.set(m[1], Math.max(0, Number(m[2]) * 1000 - LOOP_SAMPLE_MS));
  } catch {
    // Reported as n/a.
  }
  const lag = (k: string) => gauges.get(k) ?? Number.NaN;
  return { at: Date.now(), counters, loopLagMs: gauges.size > 0 ? { p50: lag('p50'), p99: lag('p99'), max: lag('max') } : null };
}

function describeLoopLag(s: WorkerScrape): string {
  if (!s.loopLagMs) return 'worker event loop delay n/a';
  const { p50, p99, max } = s.loopLagMs;
  return `worker event loop delay p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(0)} ms`;
}

function describeCounters(beforeScrape: WorkerScrape, afterScrape: WorkerScrape): string {
  const before = beforeScrape.counters;
  const after = afterScrape.counters;
  if (after.size === 0) return 'n/a (metrics endpoint did not answer)';
  const delta = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
  const group = (prefix: string) =>
    [...after.keys()]
      .filter((k) => k.startsWith(`${prefix} `) && delta(k) > 0)
      .map((k) => `${k.slice(prefix.length + 1)} ${delta(k)}`)
      .join(', ') || 'none';
  // Reported by the thread once a second: over a phase of several seconds the share is close enough.
  const busy = after.has('ack_thread_busy_seconds') ? `; ACK thread event loop busy ${((100 * delta('ack_thread_busy_seconds')) / Math.max(0.001, (afterScrape.at - beforeScrape.at) / 1000)).toFixed(0)}% of the time` : '';
  return `events received ${delta('events_received')}; dispatch outcomes: ${group('dispatch_outcomes')}; ACK codes: ${group('acks')}${busy}`;
}

type RunSample = { at: number; running: number; rssMiB: number | null; heapMiB: number | null };

/** Agent runs in flight (tasks the worker holds as running) and the worker's RSS, every `intervalMs`. */
/** The worker's JavaScript heap in use (its main thread, where the runs live), from its metrics. */
async function workerHeapMiB(port: number): Promise<number | null> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const m = /^larkspur_worker_nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
    return m ? Number(m[1]) / 1024 / 1024 : null;
  } catch {
    return null;
  }
}

/** Per second of samples: the runs in flight on average, and the least heap in use (what survived the last collection). */
function heapFloorBySecond(samples: RunSample[]): Array<{ running: number; mib: number | null }> {
  const seconds = new Map<number, { runs: number[]; floor: number | null }>();
  for (const s of samples) {
    const key = Math.floor(s.at / 1000);
    const bucket = seconds.get(key) ?? { runs: [], floor: null };
    bucket.runs.push(s.running);
    if (s.heapMiB !== null) bucket.floor = bucket.floor === null ? s.heapMiB : Math.min(bucket.floor, s.heapMiB);
    seconds.set(key, bucket);
  }
  return [...seconds.values()].map((b) => ({ running: b.runs.reduce((a, r) => a + r, 0) / b.runs.length, mib: b.floor }));
}

function sampleRuns(probe: Pick<ReturnType<typeof createPool>, 'query'>, workerPid: number, workerPort: number, intervalMs = 100): () => Promise<RunSample[]> {
  const samples: RunSample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      // finished_at IS NULL: the predicate of the index on running tasks (the probe reads it, not the table).
      const { rows } = await probe.query<{ n: number }>(`SELECT count(*)::int AS n FROM agent_task WHERE status = 'running' AND finished_at IS NULL`);
      const [memory, heapMiB] = await Promise.all([processMemory(workerPid), workerHeapMiB(workerPort)]);
      samples.push({ at: started, running: rows[0].n, rssMiB: memory?.rssMiB ?? null, heapMiB });
      await sleep(Math.max(0, intervalMs - (Date.now() - started)));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    return samples;
  };
}

// ---- helpers ----

/** biz_rt of each delivery's first ACK: dispatched (200) apart from shed or over budget (500). */
function handlerTimesByCode(deliveries: SimDelivery[]): { ok: number[]; retry: number[] } {
  const ok: number[] = [];
  const retry: number[] = [];
  for (const d of deliveries) {
    const first = d.acks[0];
    if (!first || first.biz_rt === null || !Number.isFinite(Number(first.biz_rt))) continue;
    (first.code === 200 ? ok : retry).push(Number(first.biz_rt));
  }
  return { ok, retry };
}

/** Per first ACK, its latency less the handler time it reports: what the sockets and both event loops added. */
function outsideHandler(deliveries: SimDelivery[]): number[] {
  const out: number[] = [];
  for (const d of deliveries) {
    const first = d.acks[0];
    if (!first || first.biz_rt === null || !Number.isFinite(Number(first.biz_rt))) continue;
    out.push(first.at - d.created_at - Number(first.biz_rt));
  }
  return out;
}

function describeStatus(deliveries: SimDelivery[]): string {
  const status = { acked: 0, pending: 0, failed: 0 };
  for (const d of deliveries) status[d.status] += 1;
  return `${status.acked} acked / ${status.pending} pending / ${status.failed} failed`;
}

type Acks = {
  /** First send -> first ACK, of the deliveries that have one. */
  latencies: number[];
  /** Over every delivery: one that never got an ACK counts as infinitely late. */
  p99: number;
  quarterP99: string;
  firstAck200: number;
  withoutAck: number;
  redelivered: number;
  deliveries: number;
};

function ackFigures(deliveries: SimDelivery[], start: number, end: number): Acks {
  // created_at is stamped in the same synchronous step that writes the delivery's first frame.
  const latencies: number[] = [];
  // A latency that keeps growing through the window means the offered rate exceeds what is served.
  const quarters: number[][] = [[], [], [], []];
  let firstAck200 = 0;
  let withoutAck = 0;
  let redelivered = 0;
  for (const d of deliveries) {
    if (d.attempts > 1) redelivered += 1;
    const first = d.acks[0];
    if (!first) {
      withoutAck += 1;
      continue;
    }
    const latency = first.at - d.created_at;
    latencies.push(latency);
    if (first.code === 200) firstAck200 += 1;
    quarters[Math.min(3, Math.max(0, Math.floor(((d.created_at - start) / Math.max(1, end - start)) * 4)))].push(latency);
  }
  const padded = [...latencies, ...Array<number>(withoutAck).fill(Number.POSITIVE_INFINITY)].sort((a, b) => a - b);
  return {
    latencies,
    p99: percentile(padded, 99),
    quarterP99: quarters.map((q) => percentile([...q].sort((a, b) => a - b), 99).toFixed(0)).join(', '),
    firstAck200,
    withoutAck,
    redelivered,
    deliveries: deliveries.length,
  };
}

function printAcks(a: Acks, deliveries: SimDelivery[], given: GivenUp, quarters = true) {
  console.log(`  ACK latency (first send -> first ACK): ${distribution(a.latencies)}`);
  const handler = handlerTimesByCode(deliveries);
  console.log(`  handler time reported in the first ACK (biz_rt, frame received -> ACK written): ACK 200 ${distribution(handler.ok)}; ACK 500 ${distribution(handler.retry)}`);
  console.log(`  the rest of each ACK's latency (minus its biz_rt: the frame's way into the worker and the ACK's way back into the simulator, sockets and both event loops): ${distribution(outsideHandler(deliveries))}`);
  if (quarters) console.log(`  ACK latency p99 by quarter of the window: ${a.quarterP99} ms`);
  console.log(`  ACK 200 share: ${((100 * a.firstAck200) / Math.max(1, a.deliveries)).toFixed(2)}% of ${a.deliveries} deliveries (${a.withoutAck} without ACK, ${a.redelivered} redelivered)`);
  console.log(`  deliveries in the simulator: ${describeStatus(deliveries)}; ${describeGivenUp(given)}`);
}

type GivenUp = { deliveries: number; neverIngested: number };

/** Deliveries the simulator stopped retrying, and how many of their messages never reached the database. */
async function givenUp(probe: Pick<ReturnType<typeof createPool>, 'query'>, deliveries: SimDelivery[]): Promise<GivenUp> {
  const failed = deliveries.filter((d) => d.status === 'failed');
  const texts = [...new Set(failed.map((d) => sentTexts.get(d.im_message_id)).filter((t): t is string => t !== undefined))];
  if (texts.length === 0) return { deliveries: failed.length, neverIngested: 0 };
  const { rows } = await probe.query<{ n: number }>(`SELECT count(DISTINCT content)::int AS n FROM chat_message WHERE role = 'user' AND content = ANY($1::text[])`, [texts]);
  return { deliveries: failed.length, neverIngested: texts.length - rows[0].n };
}

function describeGivenUp(g: GivenUp): string {
  if (g.deliveries === 0) return 'the simulator gave up on none';
  return `the simulator gave up on ${g.deliveries} (no ACK 200 within its sends), ${g.neverIngested} of their messages never ingested`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await sleep(intervalMs);
  }
  return cond();
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

function distribution(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 'no samples';
  const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  return `p50 ${f(percentile(sorted, 50))} ms, p99 ${f(percentile(sorted, 99))} ms, max ${f(sorted[sorted.length - 1])} ms (${sorted.length} samples)`;
}

const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(x >= 100 ? 0 : 1)} ms` : x > 0 ? 'unbounded (some never arrived)' : 'n/a');

const token = (prefix: string, n: number) => `${prefix}${String(n).padStart(6, '0')}`;
const messageText = (prefix: string, n: number) => `bench message ${token(prefix, n)}`;
/** w warm-up, c one message at a time, s steady, z saturation, m model latency, b burst. */
const tokenPattern = /\b([wcszmb]\d{6})\b/;

const loadAverage = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ');

function verdict(met: boolean): string {
  return met ? 'MET' : 'MISSED';
}

const goals: string[] = [];
function goal(text: string, met: boolean, detail: string) {
  goals.push(`  ${text}: ${verdict(met)} — ${detail}`);
}

const sources = (window: StatementWindow, perMessageOf: number) =>
  [...window.bySource].map(([source, n]) => `${source} ${(n / Math.max(1, perMessageOf)).toFixed(1)}`).join(', ');

function printStatements(label: string, window: StatementWindow, perMessageOf: number) {
  if (!LIST_STATEMENTS) return;
  console.log(`  statements ${label} (calls per message, mean execution and planning ms at the server):`);
  for (const s of window.statements.slice(0, 40)) {
    const mean = s.calls > 0 ? s.totalMs / s.calls : Number.NaN;
    const plan = s.calls > 0 ? s.planMs / s.calls : Number.NaN;
    console.log(`    ${(s.calls / perMessageOf).toFixed(2).padStart(6)}  ${mean.toFixed(2).padStart(7)} ms  ${plan.toFixed(2).padStart(6)} ms  ${s.label}`);
  }
}

function cpuPerMessage(u: PhaseUsage, messages: number): string {
  const per = (share: number | null) => (share === null ? 'n/a' : `${((share * u.seconds * 1000) / Math.max(1, messages)).toFixed(2)} ms`);
  return `worker ${per(u.workerCpu)}, PostgreSQL ${per(u.postgresCpu)}, bench process ${per(u.processCpu)}`;
}

// ---- run ----

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'larkspur-bench-inbound-'));
await fs.chmod(dir, 0o777);

let pg: EmbeddedServer | null = null;
let sim: Simulator | null = null;
let worker: WorkerProcess | null = null;
let probePool: ReturnType<typeof createPool> | null = null;
// Last resort if the process is interrupted (the embedded server's own exit hook stops PostgreSQL and
// exits): no worker may outlive the run.
process.on('exit', () => {
  if (worker && isRunning(worker)) worker.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

try {
  const benchStarted = Date.now();
  const dataDir = path.join(dir, 'pg');
  pg = await startEmbeddedPostgres({ dataDir, persistent: false, extraFlags: statementTrackingFlags(LIST_STATEMENTS) });
  await ensureDatabase(pg.url('postgres'), 'bench');
  const url = pg.socketUrl('bench');
  await applyMigrations(url);
  const pgPid = await postmasterPid(dataDir);
  const admin = createPool(url, 1);
  try {
    await enableStatementTracking(admin);
    await admin.query(`CREATE ROLE ${PROBE_ROLE} LOGIN SUPERUSER PASSWORD '${PROBE_ROLE}'`);
  } finally {
    await admin.end();
  }
  const probeUrl = new URL(url);
  probeUrl.username = PROBE_ROLE;
  probeUrl.password = PROBE_ROLE;
  probeUrl.searchParams.set('application_name', 'larkspur-bench');

  probePool = createPool(probeUrl.toString(), 4);
  const pool = probePool;
  const db = createDb(pool);
  const scalar = async (text: string, values: unknown[] = []) => Number((await pool.query(text, values)).rows[0]?.n ?? 0);
  /** How long each agent answer written since `since` waited in the outbox until it was sent. */
  const outboxDeliveryTimes = async (since: number): Promise<number[]> =>
    (
      await pool.query<{ ms: number }>(
        `SELECT (extract(epoch FROM sent_at - created_at) * 1000)::float8 AS ms FROM lark_outbox
         WHERE kind = 'agent_reply' AND status = 'sent' AND created_at >= to_timestamp($1::float8 / 1000)`,
        [since],
      )
    ).rows.map((r) => r.ms);

  const simOptions: SimulatorOptions = {
    port: 0,
    rateLimitPerSecond: 1_000_000,
    rateLimitPerMinute: 10_000_000,
    chatRateLimitPerSecond: 1_000_000,
    patchRateLimitPerSecond: 1_000_000,
    ...(SIM_MAX_ATTEMPTS !== undefined && { maxDeliveryAttempts: SIM_MAX_ATTEMPTS }),
  };
  const simConfig = resolveConfig(simOptions);
  sim = await startSimulator(simOptions);
  const simUrl = sim.url;

  // ---- seed: per installation an echo agent and a bot; per bot BENCH_USERS_PER_INSTALLATION Lark
  // users, each bound to a workspace account of their own, as people are ----
  console.log(`seeding ${INSTALLATIONS} installations × ${USERS_PER_INSTALLATION} Lark users = ${CHATS} DM chats…`);
  const stamp = Date.now();
  const [owner] = await db.insert(user).values({ id: randomBytes(8).toString('hex'), name: 'Bench', email: `bench-${stamp}@example.com` }).returning();
  const [ws] = await db.insert(workspace).values({ name: 'Bench', slug: `bench-${stamp}`, issuePrefix: 'BEN' }).returning();
  await db.insert(member).values({ workspaceId: ws.id, userId: owner.id, role: 'owner' });
  const { tenant_key } = await control<{ tenant_key: string }>(simUrl, 'POST', '/tenants', { brand: 'feishu', name: 'Bench' });
  const apps: Array<{ appId: string; appSecret: string; botOpenId: string; botUnionId: string }> = [];
  await inParallel(
    Array.from({ length: INSTALLATIONS }, (_, i) => i),
    16,
    async (i) => {
      const app = await control<{ app_id: string; app_secret: string }>(simUrl, 'POST', '/apps', { tenant_key, name: `Bot ${i}` });
      const info = await control<{ bot_open_id: string; bot_union_id: string }>(simUrl, 'GET', `/apps/${app.app_id}`);
      apps[i] = { appId: app.app_id, appSecret: app.app_secret, botOpenId: info.bot_open_id, botUnionId: info.bot_union_id };
    },
  );
  const appIds = apps.map((a) => a.appId);
  // Chat n is bot n mod INSTALLATIONS: sending to chats in order spreads messages over every bot.
  const chats: Chat[] = [];
  const openIds: string[] = [];
  for (let n = 0; n < CHATS; n++) chats.push({ appId: appIds[n % INSTALLATIONS], simUserId: '', chatId: null, installation: n % INSTALLATIONS, user: Math.floor(n / INSTALLATIONS) });
  await inParallel(chats, 32, async (c, n) => {
    const larkUser = await control<{ id: string }>(simUrl, 'POST', '/users', { tenant_key, name: `Lark user ${c.installation}.${c.user}` });
    c.simUserId = larkUser.id;
    openIds[n] = (await control<{ open_id: string }>(simUrl, 'GET', `/apps/${c.appId}/open-id?user_id=${encodeURIComponent(larkUser.id)}`)).open_id;
  });
  const agents = await db
    .insert(agent)
    .values(apps.map((_, i) => ({ workspaceId: ws.id, ownerUserId: owner.id, name: `Agent ${i}`, avatarColor: '#336699', runtimeKind: 'echo' as const })))
    .returning({ id: agent.id, name: agent.name });
  const agentIdOf = new Map(agents.map((a) => [a.name, a.id]));
  const installations = await db
    .insert(larkInstallation)
    .values(
      apps.map((a, i) => ({
        workspaceId: ws.id,
        agentId: agentIdOf.get(`Agent ${i}`)!,
        appId: a.appId,
        appSecretCiphertext: box.seal(a.appSecret),
        tenantKey: tenant_key,
        botOpenId: a.botOpenId,
        botUnionId: a.botUnionId,
        installerUserId: owner.id,
      })),
    )
    .returning({ id: larkInstallation.id, appId: larkInstallation.appId });
  const installationIdOf = new Map(installations.map((r) => [r.appId, r.id]));
  const accounts = chats.map((c) => ({ id: randomBytes(8).toString('hex'), name: `Lark user ${c.installation}.${c.user}`, email: `bench-${stamp}-${c.installation}-${c.user}@example.com` }));
  for (let i = 0; i < chats.length; i += 500) {
    const slice = accounts.slice(i, i + 500);
    await db.insert(user).values(slice);
    await db.insert(member).values(slice.map((a) => ({ workspaceId: ws.id, userId: a.id, role: 'member' as const })));
    await db.insert(larkUserBinding).values(
      slice.map((a, j) => ({ workspaceId: ws.id, installationId: installationIdOf.get(chats[i + j].appId)!, userId: a.id, larkOpenId: openIds[i + j] })),
    );
  }

  // ---- the worker, started as `npm run worker` starts it in production ----
  // Settings the worker reads are not inherited from this shell, so every run measures the same worker.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(LARK_|WORKER_|AGENT_|PG|DATABASE_URL$|LOG_LEVEL$)/.test(name)));
  const workerPort = await freePort();
  const workerEnv: Record<string, string | undefined> = {
    ...inherited,
    DATABASE_URL: url,
    LARK_SECRET_KEY: key.toString('base64'),
    LARK_OPEN_BASE_URL: `${simUrl}/{region}`,
    LARK_ACCOUNTS_BASE_URL: `${simUrl}/{region}`,
    APP_URL: 'http://127.0.0.1:3000',
    WORKER_PORT: String(workerPort),
    WORKER_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    BETTER_AUTH_SECRET: randomBytes(24).toString('hex'),
    NODE_ID: 'bench-inbound',
    // node-postgres names every connection of the worker's pool and listeners by this.
    PGAPPNAME: WORKER_APP_NAME,
    ...(WORKER_CONCURRENCY !== undefined && { WORKER_CONCURRENCY: String(WORKER_CONCURRENCY) }),
    ...(WORKER_DB_POOL_SIZE !== undefined && { WORKER_DB_POOL_SIZE: String(WORKER_DB_POOL_SIZE) }),
    ...(DISPATCH_CONCURRENCY !== undefined && { LARK_DISPATCH_CONCURRENCY: String(DISPATCH_CONCURRENCY) }),
    ...(DISPATCH_DB_POOL_SIZE !== undefined && { LARK_DISPATCH_DB_POOL_SIZE: String(DISPATCH_DB_POOL_SIZE) }),
  };
  const workerConfig = parseEnv(workerEnv);
  // As startWorker sizes its pool.
  const workerPoolSize = workerConfig.WORKER_DB_POOL_SIZE;
  const connectStarted = Date.now();
  worker = await startWorkerProcess(workerEnv, path.join(dir, 'worker.log'));
  const running = worker;
  const connected = await waitUntil(async () => {
    if (!isRunning(running)) throw new Error(`the worker exited during start-up:\n${await logTail(running)}`);
    for (const appId of appIds) {
      if ((await control<{ connections: number }>(simUrl, 'GET', `/apps/${appId}`)).connections !== 1) return false;
    }
    return true;
  }, 90_000, 500);
  if (!connected) throw new Error(`not every installation connected within 90 s; worker log:\n${await logTail(running)}`);
  const pids = { postgres: pgPid, worker: running.pid };
  const startMemory = await processMemory(running.pid);
  console.log(`machine: ${os.cpus().length} cores, load average ${loadAverage()} (1 / 5 / 15 min) before the run; other work on the machine shows up in every latency`);
  console.log(
    `worker: pid ${running.pid}, ${INSTALLATIONS} connections open ${((Date.now() - connectStarted) / 1000).toFixed(1)} s after spawn, RSS ${startMemory?.rssMiB.toFixed(0) ?? '?'} MiB ` +
      `(task concurrency ${workerConfig.WORKER_CONCURRENCY}, dispatch concurrency ${workerConfig.LARK_DISPATCH_CONCURRENCY}, pool ${workerPoolSize}, dispatch pool ${workerConfig.LARK_DISPATCH_DB_POOL_SIZE})`,
  );
  console.log(
    `simulator: ACK timeout ${simConfig.ackTimeoutMs} ms, up to ${simConfig.maxDeliveryAttempts} sends per event, redelivery n after ${simConfig.redeliveryBackoffMs} ms × n` +
      `${SIM_MAX_ATTEMPTS === undefined ? " (Lark's behaviour)" : ' (BENCH_SIM_MAX_ATTEMPTS)'}`,
  );

  const sentReplies = () => scalar(`SELECT count(*)::int AS n FROM lark_outbox WHERE kind = 'agent_reply' AND status = 'sent'`);
  const ingestedOf = async (prefix: string) =>
    (
      await pool.query<{ rows: number; distinct: number }>(
        `SELECT count(*)::int AS rows, count(DISTINCT content)::int AS distinct FROM chat_message WHERE role = 'user' AND content LIKE $1`,
        [`bench message ${prefix}%`],
      )
    ).rows[0];
  type Backlog = { missing: number; tasks: number; outbox: number };
  const backlogOf = async (prefix: string, sent: number): Promise<Backlog> =>
    (
      await pool.query<Backlog>(
        `SELECT
           $1::int - (SELECT count(DISTINCT content) FROM chat_message WHERE role = 'user' AND content LIKE $2)::int AS missing,
           (SELECT count(*) FROM agent_task WHERE finished_at IS NULL)::int AS tasks,
           (SELECT count(*) FROM lark_outbox WHERE status = 'pending')::int AS outbox`,
        [sent, `bench message ${prefix}%`],
      )
    ).rows[0];
  /**
   * Waits up to `seconds` for what a phase's messages cause (tasks, replies) to finish. A message
   * whose event the simulator gave up on never arrives, so it also ends once no delivery is pending.
   * A worker that stopped making progress is not waited for (the run stays within minutes).
   */
  const drain = async (prefix: string, sent: number, since: number, seconds: number) => {
    const started = Date.now();
    let lastLeft = '';
    let lastProgress = Date.now();
    let stalled = false;
    const drained = await waitUntil(async () => {
      const left = await backlogOf(prefix, sent);
      if (left.tasks === 0 && left.outbox === 0) {
        if (left.missing <= 0) return true;
        if (!(await deliveriesSince(simUrl, appIds, since)).some((d) => d.status === 'pending')) return true;
      }
      const now = JSON.stringify(left);
      if (now !== lastLeft) {
        lastLeft = now;
        lastProgress = Date.now();
      } else if (Date.now() - lastProgress > DRAIN_STALL_MS) {
        stalled = true;
        return true;
      }
      return false;
    }, seconds * 1000, 250);
    return { drained: drained && !stalled, stalled, seconds: (Date.now() - started) / 1000, left: await backlogOf(prefix, sent) };
  };
  const describeDrain = (d: Awaited<ReturnType<typeof drain>>, after: string) =>
    d.drained
      ? `every task and reply done ${d.seconds.toFixed(1)} s after ${after}`
      : `NOT done ${d.seconds.toFixed(1)} s after ${after}${d.stalled ? ` (nothing moved for ${DRAIN_STALL_MS / 1000} s)` : ''}: ` +
        `${d.left.missing} messages not ingested, ${d.left.tasks} tasks and ${d.left.outbox} replies pending (carried into the next phase)`;
  const taskTimes = async (since: number) => {
    const { rows } = await pool.query<{ wait_ms: number; run_ms: number }>(
      `SELECT (extract(epoch FROM started_at - created_at) * 1000)::float8 AS wait_ms,
              (extract(epoch FROM finished_at - started_at) * 1000)::float8 AS run_ms
       FROM agent_task WHERE finished_at IS NOT NULL AND created_at >= to_timestamp($1::float8 / 1000)`,
      [since],
    );
    return { wait: rows.map((r) => r.wait_ms), run: rows.map((r) => r.run_ms) };
  };

  // ---- warm-up: one DM per chat opens every chat session (and the bots' tenant tokens); nothing is
  // measured until every reply is in ----
  console.log(`\nwarm-up: one DM in each of ${CHATS} chats…`);
  const warmSent = await sendBurst(sim, chats, 'w', CHATS, SATURATION_CONCURRENCY);
  const warmedUp = await waitUntil(async () => (await sentReplies()) >= CHATS - warmSent.failures, WARMUP_SECONDS * 1000, 500);
  const warmDeliveries = await deliveriesSince(simUrl, appIds, warmSent.start);
  const warmAcks = ackFigures(warmDeliveries, warmSent.start, warmSent.end);
  console.log(
    `  ${CHATS - warmSent.failures} DMs sent in ${((warmSent.end - warmSent.start) / 1000).toFixed(1)} s (${warmSent.failures} failed sends); ` +
      `${warmedUp ? 'every reply in' : 'replies NOT all in'} ${((Date.now() - warmSent.start) / 1000).toFixed(1)} s after the first send; ACK latency ${distribution(warmAcks.latencies)}; load average ${loadAverage()}`,
  );
  if (!warmedUp) throw new Error(`the warm-up replies did not all reach the simulator within ${WARMUP_SECONDS} s (${await sentReplies()} of ${CHATS}); worker log:\n${await logTail(running)}`);

  // ---- idle background: lease renewals, pollers ----
  await sleep(1000);
  await resetStatements(pool);
  const endIdleUsage = await measureUsage(pids);
  await sleep(IDLE_SECONDS * 1000);
  const idle = await readStatements(pool);
  const idleUsage = await endIdleUsage();
  const idlePerSecond = idle.total / IDLE_SECONDS;
  console.log(
    `idle background: ${idlePerSecond.toFixed(1)} statements/s (lease renewal, task and job pollers; ${sources(idle, IDLE_SECONDS)} per second); worker ${Math.round((idleUsage.workerCpu ?? 0) * 100)}% of a core; load average ${loadAverage()}`,
  );

  // ---- one message per bot, nothing else in flight: the round trips of one message's whole life ----
  const calibrationChats = chats.slice(0, INSTALLATIONS);
  const repliesBefore = await sentReplies();
  await resetStatements(pool);
  const endCalibrationUsage = await measureUsage(pids);
  const calibrationStart = Date.now();
  await Promise.all(calibrationChats.map((c, i) => sendDm(sim!, c, messageText('c', i))));
  const calibrated = await waitUntil(async () => {
    const tasks = await scalar(`SELECT count(*)::int AS n FROM agent_task WHERE finished_at IS NULL`);
    return tasks === 0 && (await sentReplies()) >= repliesBefore + calibrationChats.length;
  }, 60_000, 50);
  const calibration = await readStatements(pool);
  const calibrationUsage = await endCalibrationUsage();
  const calibrationNet = calibration.total - idlePerSecond * ((Date.now() - calibrationStart) / 1000);
  console.log(
    `round trips per message, one at a time per chat: ${(calibrationNet / calibrationChats.length).toFixed(1)} without the idle background (${calibration.total} statements for ${calibrationChats.length} messages: dispatch + task run + outbox delivery; ${sources(calibration, calibrationChats.length)}; ${calibration.nested} nested)${calibrated ? '' : ' — replies did NOT all arrive within 60 s'}`,
  );
  const calibrationHandler = handlerTimesByCode(await deliveriesSince(simUrl, appIds, calibrationStart));
  console.log(`  handler time in the ACK, one at a time per chat: ${distribution(calibrationHandler.ok)}`);
  console.log(`  CPU per message, one at a time per chat (idle background included): ${cpuPerMessage(calibrationUsage, calibrationChats.length)}; load average ${loadAverage()}`);
  printStatements('per message, one at a time per chat', calibration, calibrationChats.length);

  // ---- steady rate, instant echo agent ----
  const steadyCount = Math.max(1, Math.round(RATE * SECONDS));
  console.log(`\nsteady: ${steadyCount} DMs at ${RATE} events/s over ${CHATS} chats of ${INSTALLATIONS} bots, instant echo agent…`);
  const steadyCountersBefore = await scrapeWorker(workerPort);
  await resetStatements(pool);
  const endSteadyUsage = await measureUsage(pids);
  const endLifecycleUsage = await measureUsage(pids);
  const endSteadySampling = sampleBackends(pool, WORKER_APP_NAME);
  const paced = await sendPaced(sim, chats, 's', steadyCount, RATE);
  const { start: steadyStart, end: steadyEnd } = paced;
  const steadyUsage = await endSteadyUsage();
  const steadyBackends = await endSteadySampling();
  const steadyWindowQueries = await readStatements(pool);
  const steadyWindowScrape = await scrapeWorker(workerPort);
  const windowSeconds = (steadyEnd - steadyStart) / 1000;
  const ingestedInWindow = await scalar(
    `SELECT count(*)::int AS n FROM chat_message WHERE role = 'user' AND content LIKE 'bench message s%'
       AND created_at >= to_timestamp($1::float8 / 1000) AND created_at <= to_timestamp($2::float8 / 1000)`,
    [steadyStart, steadyEnd],
  );

  // What the steady messages cause gets up to BENCH_DRAIN_SECONDS to finish before the next phase;
  // whatever is left is reported and carried into it.
  const steadyDrain = await drain('s', steadyCount, steadyStart, DRAIN_SECONDS);
  await assertWorkerRunning(running, 'the steady phase');
  const steadyLifecycleQueries = await readStatements(pool);
  const lifecycleUsage = await endLifecycleUsage();
  const steadyCountersAfter = await scrapeWorker(workerPort);

  const steadyDeliveries = await deliveriesSince(simUrl, appIds, steadyStart);
  const steadyAcks = ackFigures(steadyDeliveries, steadyStart, steadyEnd);

  // Reply latency, end to end: the user's message and the bot's answer in the simulator transcript.
  const steadyTranscript = await readTranscripts(simUrl, chats, 's');
  const steadyReplies = replyFigures(steadyTranscript, steadyCount - paced.failures);
  const outboxTimes = await outboxDeliveryTimes(steadyStart);
  const throughput = await pool.query<{ tasks_per_s: number | null; outbox_per_s: number | null }>(
    `SELECT
       (SELECT count(*) / nullif(extract(epoch FROM max(finished_at) - min(started_at)), 0) FROM agent_task
          WHERE status = 'completed' AND created_at >= to_timestamp($1::float8 / 1000))::float8 AS tasks_per_s,
       (SELECT count(*) / nullif(extract(epoch FROM max(sent_at) - min(sent_at)), 0) FROM lark_outbox
          WHERE status = 'sent' AND created_at >= to_timestamp($1::float8 / 1000))::float8 AS outbox_per_s`,
    [steadyStart],
  );
  const steadyTasks = await taskTimes(steadyStart);
  const steadyIngested = await ingestedOf('s');
  const steadyDuplicates = steadyIngested.rows - steadyIngested.distinct;
  const steadyGivenUp = await givenUp(pool, steadyDeliveries);

  const offered = steadyCount / windowSeconds;
  const ingestedPerSecond = ingestedInWindow / windowSeconds;
  const perMessageWindow = ingestedInWindow > 0 ? steadyWindowQueries.total / ingestedInWindow : Number.NaN;
  const lifecycleSeconds = lifecycleUsage.seconds;
  const lifecycleBackground = idlePerSecond * lifecycleSeconds;
  const perMessageLifecycle = steadyIngested.rows > 0 ? steadyLifecycleQueries.total / steadyIngested.rows : Number.NaN;
  const perMessageLifecycleNet = steadyIngested.rows > 0 ? (steadyLifecycleQueries.total - lifecycleBackground) / steadyIngested.rows : Number.NaN;

  console.log(`  sent: ${steadyCount} DMs in ${windowSeconds.toFixed(1)} s = ${offered.toFixed(1)} events/s offered (sender at most ${paced.maxBehind} behind schedule, ${paced.failures} failed sends)`);
  printAcks(steadyAcks, steadyDeliveries, steadyGivenUp);
  const steadyImageDeliveries = steadyDeliveries.filter((d) => imageMessages.has(d.im_message_id));
  const steadyImageAcks = ackFigures(steadyImageDeliveries, steadyStart, steadyEnd);
  const steadyImagesStored = await scalar(
    `SELECT count(*)::int AS n FROM attachment a JOIN chat_message m ON m.id = a.chat_message_id
     WHERE a.state = 'stored' AND m.content LIKE 'bench message s%' AND m.created_at >= to_timestamp($1::float8 / 1000)`,
    [steadyStart],
  );
  console.log(
    `  image messages in the mix: ${steadyImageDeliveries.length} of ${steadyDeliveries.length} deliveries (${(100 * IMAGE_SHARE).toFixed(0)}% asked; BENCH_IMAGE_SHARE), ACK p99 of those ${ms(steadyImageAcks.p99)}, ${steadyImagesStored} images downloaded and stored after the ACK`,
  );
  console.log(`  worker: ${describeCounters(steadyCountersBefore, steadyCountersAfter)}`);
  console.log(`  ingested during the window: ${ingestedPerSecond.toFixed(1)} messages/s (${ingestedInWindow} user chat_message rows in ${windowSeconds.toFixed(1)} s)`);
  console.log(`  ingested in total: ${steadyIngested.distinct} of ${steadyCount}, duplicates ${steadyDuplicates}, missing ${steadyCount - steadyIngested.distinct}`);
  console.log(
    `  round trips per ingested message, during the window: ${perMessageWindow.toFixed(1)} (${steadyWindowQueries.total} statements from the worker: dispatch + task runs + outbox delivery + background done in the window)`,
  );
  console.log(
    `  round trips per ingested message, full lifecycle: ${perMessageLifecycle.toFixed(1)} incl. background, ${perMessageLifecycleNet.toFixed(1)} without the idle background (window + ${steadyDrain.seconds.toFixed(1)} s drain; ${sources(steadyLifecycleQueries, steadyIngested.rows)}; ${(steadyLifecycleQueries.nested / Math.max(1, steadyIngested.rows)).toFixed(1)} nested)${steadyDrain.drained ? '' : '; incomplete, work was still pending'}`,
  );
  console.log(`  drain: ${describeDrain(steadyDrain, 'the last send')}`);
  console.log(`  task queue wait (queued -> started): ${distribution(steadyTasks.wait)}`);
  console.log(`  task run (started -> finished): ${distribution(steadyTasks.run)}`);
  console.log(`  outbox delivery (lark_outbox created -> sent): ${distribution(outboxTimes)}`);
  console.log(`  reply latency (user message -> bot reply in the simulator): ${distribution(steadyReplies.latencies)}; ${steadyReplies.unanswered} unanswered`);
  console.log(`  replies: ${steadyTranscript.replyTimes.length} bot replies quote ${steadyTranscript.repliedAt.size} distinct messages of ${steadyCount} (${steadyReplies.extra} quote a message that already had its answer)`);
  const rate = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(1)}/s`);
  console.log(`  throughput after the window: tasks completed ${rate(throughput.rows[0].tasks_per_s)}, outbox rows sent ${rate(throughput.rows[0].outbox_per_s)} (first start -> last finish)`);
  console.log(`  resources during the window (${steadyUsage.seconds.toFixed(1)} s): ${describeUsage(steadyUsage)}; ${describeLoopLag(steadyWindowScrape)}; load average ${loadAverage()}`);
  console.log(`  CPU per ingested message over the full lifecycle (${lifecycleSeconds.toFixed(1)} s): ${cpuPerMessage(lifecycleUsage, steadyIngested.rows)}`);
  console.log(
    `  PostgreSQL time per ingested message over the full lifecycle: ${(steadyLifecycleQueries.totalMs / Math.max(1, steadyIngested.rows)).toFixed(2)} ms executing the worker's statements (lock waits included), ${LIST_STATEMENTS ? `${(steadyLifecycleQueries.planMs / Math.max(1, steadyIngested.rows)).toFixed(2)} ms planning them` : 'planning not tracked (BENCH_STATEMENTS=1 tracks it)'} (parse and protocol not counted)`,
  );
  console.log(`  ${describeBackends(steadyBackends, workerPoolSize)}`);
  printStatements('over the full steady lifecycle', steadyLifecycleQueries, Math.max(1, steadyIngested.rows));

  const rateNote = (r: number) => (r === GOAL_ACK_RATE ? '' : ` (measured at ${r} events/s, not the goal's ${GOAL_ACK_RATE})`);
  goal(
    `p99 ACK < ${GOAL_ACK_P99_MS} ms at ${GOAL_ACK_RATE} events/s over the whole window`,
    steadyAcks.p99 < GOAL_ACK_P99_MS && RATE >= GOAL_ACK_RATE,
    `p99 ${ms(steadyAcks.p99)} over ${steadyAcks.deliveries} deliveries (by quarter ${steadyAcks.quarterP99} ms)${rateNote(RATE)}`,
  );
  goal(
    `<= ${GOAL_STATEMENTS_PER_MESSAGE} statements per message over its whole life (echo agent, without the idle background)`,
    steadyDrain.drained && perMessageLifecycleNet <= GOAL_STATEMENTS_PER_MESSAGE,
    `${perMessageLifecycleNet.toFixed(1)} per message${steadyDrain.drained ? '' : ' (incomplete: work was still pending)'}`,
  );
  goal(
    `p99 reply latency < ${GOAL_REPLY_P99_MS} ms at ${GOAL_ACK_RATE} events/s with the instant echo agent`,
    steadyReplies.p99 < GOAL_REPLY_P99_MS && RATE >= GOAL_ACK_RATE,
    `p99 ${ms(steadyReplies.p99)}, ${steadyReplies.unanswered} unanswered${rateNote(RATE)}`,
  );

  // ---- saturation ----
  console.log(`\nsaturation: ${SATURATION_MESSAGES} DMs, ${SATURATION_CONCURRENCY} sends in flight…`);
  const satCountersBefore = await scrapeWorker(workerPort);
  await resetStatements(pool);
  const endSatUsage = await measureUsage(pids);
  const endSatSampling = sampleBackends(pool, WORKER_APP_NAME);
  const satSentFigures = await sendBurst(sim, chats, 'z', SATURATION_MESSAGES, SATURATION_CONCURRENCY);
  const { start: satStart, end: satSendsDone, failures: satFailures } = satSentFigures;
  const countSaturation = async () => {
    const { rows } = await pool.query<{ rows: number; distinct: number; last_ms: number | null }>(
      `SELECT count(*)::int AS rows, count(DISTINCT content)::int AS distinct,
              (extract(epoch FROM max(created_at)) * 1000)::float8 AS last_ms
       FROM chat_message WHERE role = 'user' AND content LIKE 'bench message z%'`,
    );
    return rows[0];
  };
  // Done when every message is in, or when nothing moved for longer than Lark's redelivery schedule.
  let lastDistinct = -1;
  let lastProgress = Date.now();
  while (Date.now() - satStart < 75_000) {
    const now = await countSaturation();
    if (now.distinct >= SATURATION_MESSAGES - satFailures) break;
    if (now.distinct !== lastDistinct) {
      lastDistinct = now.distinct;
      lastProgress = Date.now();
    } else if (Date.now() - lastProgress > 20_000) break;
    await sleep(200);
  }
  const satUsage = await endSatUsage();
  await assertWorkerRunning(running, 'saturation');
  const satBackends = await endSatSampling();
  const satQueries = await readStatements(pool);
  const satCountersAfter = await scrapeWorker(workerPort);
  // Deliveries still waiting for a redelivery are counted too; give them a moment to settle.
  await waitUntil(async () => !(await deliveriesSince(simUrl, appIds, satStart)).some((d) => d.status === 'pending'), 20_000, 1000);
  const sat = await countSaturation();
  const satDeliveries = await deliveriesSince(simUrl, appIds, satStart);
  const satFirst200 = satDeliveries.filter((d) => d.acks[0]?.code === 200).length;
  const satRedelivered = satDeliveries.filter((d) => d.attempts > 1).length;
  const satGivenUp = await givenUp(pool, satDeliveries);
  const satSeconds = sat.last_ms ? (sat.last_ms - satStart) / 1000 : Number.NaN;
  const satPerSecond = sat.distinct / satSeconds;
  const satSent = SATURATION_MESSAGES - satFailures;
  const exactlyOnce = sat.distinct === satSent && sat.rows === sat.distinct;
  const satAckLatencies = satDeliveries.filter((d) => d.acks[0]).map((d) => d.acks[0].at - d.created_at);

  console.log(`  sent: ${satSent} DMs in ${((satSendsDone - satStart) / 1000).toFixed(1)} s = ${(satSent / ((satSendsDone - satStart) / 1000)).toFixed(1)} events/s offered (${satFailures} failed sends)`);
  console.log(`  ingested: ${satPerSecond.toFixed(1)} messages/s (${sat.distinct} messages, first send -> last chat_message written in ${satSeconds.toFixed(1)} s)`);
  console.log(`  exactly once: ${exactlyOnce ? 'yes' : 'NO'} (${satSent} sent, ${sat.rows} chat_message rows, ${sat.distinct} distinct, duplicates ${sat.rows - sat.distinct}, missing ${satSent - sat.distinct})`);
  console.log(`  deliveries: ${satDeliveries.length}, first ACK 200 ${((100 * satFirst200) / Math.max(1, satDeliveries.length)).toFixed(2)}%, ${satRedelivered} redelivered, final ${describeStatus(satDeliveries)}`);
  console.log(`  given up: ${describeGivenUp(satGivenUp)}`);
  console.log(`  worker: ${describeCounters(satCountersBefore, satCountersAfter)}`);
  console.log(`  ACK latency at saturation: ${distribution(satAckLatencies)}`);
  console.log(`  round trips per ingested message: ${(satQueries.total / Math.max(1, sat.distinct)).toFixed(1)} (${satQueries.total} statements from the worker, tasks and replies done meanwhile included; ${sources(satQueries, sat.distinct)})`);
  console.log(`  resources over ${satUsage.seconds.toFixed(1)} s (sends, ingestion and the wait for stragglers): ${describeUsage(satUsage)}; ${describeLoopLag(satCountersAfter)}; load average ${loadAverage()}`);
  console.log(
    `  CPU per ingested message: ${cpuPerMessage(satUsage, sat.distinct)}; PostgreSQL executing the worker's statements ${(satQueries.totalMs / Math.max(1, sat.distinct)).toFixed(2)} ms (lock waits included)`,
  );
  console.log(`  ${describeBackends(satBackends, workerPoolSize)}`);
  printStatements('during saturation', satQueries, Math.max(1, sat.distinct));
  // The next phases measure runs and replies: the saturation's own must be done first.
  const satDrain = await drain('z', satSent, satStart, DRAIN_SECONDS);
  console.log(`  drain: ${describeDrain(satDrain, 'ingestion ended')}`);

  goal(`>= ${GOAL_SATURATION_PER_SECOND} ingested messages/s at saturation`, satPerSecond >= GOAL_SATURATION_PER_SECOND, `${satPerSecond.toFixed(1)} messages/s`);
  goal(
    'exactly once at saturation',
    exactlyOnce && satGivenUp.deliveries === 0,
    `duplicates ${sat.rows - sat.distinct}, missing ${satSent - sat.distinct}, events the simulator gave up on ${satGivenUp.deliveries}`,
  );

  // ---- a simulated model: every agent answers after MODEL_DELAY_MS ----
  // The worker reads the agent on every run, so the change applies from the next message on.
  const delayNote = MODEL_DELAY_MS === GOAL_MODEL_DELAY_MS ? '' : ` (measured with ${MODEL_DELAY_MS} ms, not the goal's ${GOAL_MODEL_DELAY_MS} ms)`;
  // With streaming on: after the model's latency, the answer streams word by word into a card.
  await pool.query(`UPDATE agent SET runtime_config = jsonb_build_object('delayMs', $1::int, 'wordDelayMs', $2::int), updated_at = now() WHERE workspace_id = $3`, [
    MODEL_DELAY_MS,
    MODEL_WORD_DELAY_MS,
    ws.id,
  ]);
  const modelCount = Math.max(1, Math.round(RATE * MODEL_SECONDS));
  console.log(`\nmodel latency: ${modelCount} DMs at ${RATE} events/s over ${CHATS} chats, every agent answering after ${MODEL_DELAY_MS} ms…`);
  const modelCountersBefore = await scrapeWorker(workerPort);
  await resetStatements(pool);
  const endModelUsage = await measureUsage(pids);
  const endModelSampling = sampleBackends(pool, WORKER_APP_NAME);
  const modelSent = await sendPaced(sim, chats, 'm', modelCount, RATE);
  const modelUsage = await endModelUsage();
  const modelBackends = await endModelSampling();
  const modelWindowScrape = await scrapeWorker(workerPort);
  const modelDrain = await drain('m', modelCount, modelSent.start, DRAIN_SECONDS);
  const modelQueries = await readStatements(pool);
  await assertWorkerRunning(running, 'the model latency phase');
  const modelCountersAfter = await scrapeWorker(workerPort);
  const modelDeliveries = await deliveriesSince(simUrl, appIds, modelSent.start);
  const modelAcks = ackFigures(modelDeliveries, modelSent.start, modelSent.end);
  const modelGivenUp = await givenUp(pool, modelDeliveries);
  const modelIngested = await ingestedOf('m');
  const modelTasks = await taskTimes(modelSent.start);
  const modelTranscript = await readTranscripts(simUrl, chats, 'm');
  const modelCards = await cardFigures(simUrl, appIds, modelSent.start);
  const modelReplies = replyFigures(modelTranscript, modelCount - modelSent.failures);
  // A run shorter than the delay means the simulated latency was not in effect: the figures would flatter.
  const modelRunP50 = percentile([...modelTasks.run].sort((a, b) => a - b), 50);
  const modelDelayHonoured = modelRunP50 >= MODEL_DELAY_MS - 5;
  const modelWindow = (modelSent.end - modelSent.start) / 1000;

  console.log(`  sent: ${modelCount} DMs in ${modelWindow.toFixed(1)} s = ${(modelCount / modelWindow).toFixed(1)} events/s offered (sender at most ${modelSent.maxBehind} behind schedule, ${modelSent.failures} failed sends)`);
  printAcks(modelAcks, modelDeliveries, modelGivenUp);
  console.log(`  worker: ${describeCounters(modelCountersBefore, modelCountersAfter)}`);
  console.log(`  ingested in total: ${modelIngested.distinct} of ${modelCount}, duplicates ${modelIngested.rows - modelIngested.distinct}, missing ${modelCount - modelIngested.distinct}`);
  console.log(`  drain: ${describeDrain(modelDrain, 'the last send')}`);
  console.log(`  task queue wait (queued -> started): ${distribution(modelTasks.wait)}`);
  console.log(`  task run (started -> finished, the simulated model included): ${distribution(modelTasks.run)}${modelDelayHonoured ? '' : ` — shorter than the ${MODEL_DELAY_MS} ms delay: the simulated latency was NOT in effect`}`);
  console.log(`  answer delivery (lark_outbox created -> sent, the streamed card closed with it): ${distribution(await outboxDeliveryTimes(modelSent.start))}`);
  console.log(`  reply latency (user message -> bot reply in the simulator; a streamed answer when its card is closed): ${distribution(modelReplies.latencies)}; ${modelReplies.unanswered} unanswered`);
  console.log(
    `  round trips per ingested message, full lifecycle with streaming: ${(modelQueries.total / Math.max(1, modelIngested.rows)).toFixed(1)} (${modelQueries.total} statements from the worker, background included; ${sources(modelQueries, modelIngested.rows)})`,
  );
  console.log(`  replies: ${modelTranscript.replyTimes.length} bot replies quote ${modelTranscript.repliedAt.size} distinct messages of ${modelCount} (${modelReplies.extra} quote a message that already had its answer)`);
  console.log(`  resources during the window (${modelUsage.seconds.toFixed(1)} s): ${describeUsage(modelUsage)}; ${describeLoopLag(modelWindowScrape)}; load average ${loadAverage()}`);
  console.log(`  ${describeBackends(modelBackends, workerPoolSize)}`);
  printStatements('over the model phase', modelQueries, modelIngested.rows);

  goal(
    `p99 reply latency < model latency + ${GOAL_MODEL_OVERHEAD_MS} ms with a ${GOAL_MODEL_DELAY_MS} ms model at ${GOAL_ACK_RATE} events/s`,
    modelReplies.p99 < MODEL_DELAY_MS + GOAL_MODEL_OVERHEAD_MS && RATE >= GOAL_ACK_RATE && MODEL_DELAY_MS >= GOAL_MODEL_DELAY_MS && modelDelayHonoured,
    `p99 ${ms(modelReplies.p99)} against ${MODEL_DELAY_MS + GOAL_MODEL_OVERHEAD_MS} ms, ${modelReplies.unanswered} unanswered${modelDelayHonoured ? '' : '; the delay was not in effect'}${rateNote(RATE)}${delayNote}`,
  );
  goal(
    `p99 ACK < ${GOAL_ACK_P99_MS} ms at ${GOAL_ACK_RATE} events/s with a ${GOAL_MODEL_DELAY_MS} ms model`,
    modelAcks.p99 < GOAL_ACK_P99_MS && RATE >= GOAL_ACK_RATE,
    `p99 ${ms(modelAcks.p99)} over ${modelAcks.deliveries} deliveries (by quarter ${modelAcks.quarterP99} ms)${rateNote(RATE)}`,
  );

  // ---- burst: agent runs in flight in one worker ----
  const burstChats = Math.min(CHATS, BURST_MESSAGES);
  console.log(`\nburst: ${BURST_MESSAGES} DMs across ${burstChats} chats at ${BURST_RATE} events/s, every agent answering after ${MODEL_DELAY_MS} ms…`);
  const burstCountersBefore = await scrapeWorker(workerPort);
  // The burst measures runs in flight: answers arrive whole after the model's latency (no streaming).
  await pool.query(`UPDATE agent SET runtime_config = jsonb_build_object('delayMs', $1::int), updated_at = now() WHERE workspace_id = $2`, [MODEL_DELAY_MS, ws.id]);
  const rssBefore = (await processMemory(running.pid))?.rssMiB ?? Number.NaN;
  await resetStatements(pool);
  const endBurstUsage = await measureUsage(pids);
  const endRunSampling = sampleRuns(pool, running.pid, workerPort);
  const burstSent = await sendPaced(sim, chats, 'b', BURST_MESSAGES, BURST_RATE);
  const burstDrain = await drain('b', BURST_MESSAGES - burstSent.failures, burstSent.start, DRAIN_SECONDS);
  const runSamples = await endRunSampling();
  const burstUsage = await endBurstUsage();
  const burstQueries = await readStatements(pool);
  await assertWorkerRunning(running, 'the burst');
  const burstCountersAfter = await scrapeWorker(workerPort);
  const burstDeliveries = await deliveriesSince(simUrl, appIds, burstSent.start);
  const burstAcks = ackFigures(burstDeliveries, burstSent.start, burstSent.end);
  const burstGivenUp = await givenUp(pool, burstDeliveries);
  const burstIngested = await ingestedOf('b');
  const burstTasks = await taskTimes(burstSent.start);
  const burstTranscript = await readTranscripts(simUrl, chats, 'b');
  const burstReplies = replyFigures(burstTranscript, BURST_MESSAGES - burstSent.failures);

  let peak: RunSample = { at: burstSent.start, running: 0, rssMiB: null, heapMiB: null };
  let atGoalMs = 0;
  for (let i = 0; i < runSamples.length; i++) {
    const s = runSamples[i];
    if (s.running > peak.running) peak = s;
    if (s.running >= GOAL_RUNS_IN_FLIGHT && i + 1 < runSamples.length) atGoalMs += runSamples[i + 1].at - s.at;
  }
  const replyTimes = [...burstTranscript.replyTimes].sort((a, b) => a - b);
  const replySpan = replyTimes.length > 1 ? (replyTimes[replyTimes.length - 1] - replyTimes[0]) / 1000 : Number.NaN;
  const repliesPerSecond = replyTimes.length / replySpan;
  // Two samples (before, at the peak) are at the mercy of a garbage collection in between, and RSS
  // hardly ever gives memory back. The heap in use saws up and down with every collection; its floor
  // (the least in each second) is what is alive. The slope of that floor over the runs in flight,
  // across the rise and fall, is what a run holds; a fit that explains little is not printed.
  const memoryFit = memoryPerRun(heapFloorBySecond(runSamples));
  const memoryPerRunKiB = memoryFit.kibPerRun;
  // Whatever the fit says, no run holds more than the whole worker divided by the runs at the peak.
  const memoryBoundKiB = peak.running > 0 && peak.rssMiB !== null ? (peak.rssMiB * 1024) / peak.running : Number.NaN;
  const describeRunMemory = () =>
    `${Number.isFinite(memoryPerRunKiB) ? `${memoryPerRunKiB.toFixed(1)} KiB per run, ` : ''}at most ${Number.isFinite(memoryBoundKiB) ? memoryBoundKiB.toFixed(0) : 'n/a'} KiB per run (the whole worker over its runs)`;
  const burstRunP50 = percentile([...burstTasks.run].sort((a, b) => a - b), 50);
  const burstDelayHonoured = burstRunP50 >= MODEL_DELAY_MS - 5;
  const burstWindow = (burstSent.end - burstSent.start) / 1000;

  console.log(`  sent: ${BURST_MESSAGES - burstSent.failures} DMs in ${burstWindow.toFixed(1)} s = ${((BURST_MESSAGES - burstSent.failures) / burstWindow).toFixed(1)} events/s offered (sender at most ${burstSent.maxBehind} behind schedule, ${burstSent.failures} failed sends)`);
  console.log(
    `  agent runs in flight (agent_task running, sampled every 100 ms): peak ${peak.running} at ${((peak.at - burstSent.start) / 1000).toFixed(1)} s, ` +
      `${(atGoalMs / 1000).toFixed(1)} s at >= ${GOAL_RUNS_IN_FLIGHT} (${runSamples.length} samples)`,
  );
  printAcks(burstAcks, burstDeliveries, burstGivenUp);
  console.log(`  worker: ${describeCounters(burstCountersBefore, burstCountersAfter)}`);
  console.log(`  ingested in total: ${burstIngested.distinct} of ${BURST_MESSAGES}, duplicates ${burstIngested.rows - burstIngested.distinct}, missing ${BURST_MESSAGES - burstIngested.distinct}`);
  console.log(`  drain: ${describeDrain(burstDrain, 'the first send')}`);
  console.log(`  task queue wait (queued -> started): ${distribution(burstTasks.wait)}`);
  console.log(`  task run (started -> finished, the simulated model included): ${distribution(burstTasks.run)}${burstDelayHonoured ? '' : ` — shorter than the ${MODEL_DELAY_MS} ms delay: the simulated latency was NOT in effect`}`);
  console.log(
    `  replies: ${replyTimes.length} bot replies in ${replySpan.toFixed(1)} s from the first to the last = ${repliesPerSecond.toFixed(1)}/s (as the simulator stamped them); ` +
      `reply latency ${distribution(burstReplies.latencies)}; ${burstReplies.unanswered} unanswered`,
  );
  console.log(
    `  memory: worker RSS ${rssBefore.toFixed(0)} MiB before, ${peak.rssMiB?.toFixed(0) ?? '?'} MiB at the peak of runs; ${describeRunMemory()}; the slope of the heap's floor over runs in flight across ${memoryFit.samples} seconds ${Number.isFinite(memoryPerRunKiB) ? `fits with r² ${memoryFit.r2.toFixed(2)}` : memoryFit.falls ? `falls as the runs rise (r² ${memoryFit.r2.toFixed(2)}): a run's share is below what the collections move` : `explains too little (r² ${memoryFit.r2.toFixed(2)}): a run's share is below what the collections move`}`,
  );
  console.log(`  resources (${burstUsage.seconds.toFixed(1)} s, sends and drain): ${describeUsage(burstUsage)}; ${describeLoopLag(burstCountersAfter)}; load average ${loadAverage()}`);
  printStatements('during the burst', burstQueries, Math.max(1, BURST_MESSAGES));

  const enoughChats = burstChats >= GOAL_RUNS_IN_FLIGHT;
  goal(
    `${GOAL_RUNS_IN_FLIGHT} concurrent agent runs in one worker with a ${GOAL_MODEL_DELAY_MS} ms model (ACK p99 < ${GOAL_ACK_P99_MS} ms, >= ${GOAL_BURST_REPLIES_PER_SECOND} replies/s)`,
    enoughChats &&
      peak.running >= GOAL_RUNS_IN_FLIGHT &&
      burstAcks.p99 < GOAL_ACK_P99_MS &&
      repliesPerSecond >= GOAL_BURST_REPLIES_PER_SECOND &&
      MODEL_DELAY_MS >= GOAL_MODEL_DELAY_MS &&
      burstDelayHonoured,
    `peak ${peak.running} runs (${(atGoalMs / 1000).toFixed(1)} s at >= ${GOAL_RUNS_IN_FLIGHT}), ACK p99 ${ms(burstAcks.p99)}, ${repliesPerSecond.toFixed(1)} replies/s, ` +
      `${describeRunMemory()}` +
      `${enoughChats ? '' : `; only ${burstChats} chats (BENCH_USERS_PER_INSTALLATION × BENCH_INSTALLATIONS must reach ${GOAL_RUNS_IN_FLIGHT})`}` +
      `${burstDelayHonoured ? '' : '; the delay was not in effect'}${delayNote}`,
  );

  // ---- goals ----
  console.log('\ngoals:');
  for (const line of goals) console.log(line);
  console.log(
    `  card operations (model latency phase, answers streamed ${MODEL_WORD_DELAY_MS} ms a word): ${modelCards.cards} cards, ${(modelCards.operations / Math.max(1, modelTranscript.replyTimes.length)).toFixed(1)} operations per answer, ` +
      `${(modelCards.operations / Math.max(0.001, modelWindow + modelDrain.seconds)).toFixed(1)} per second in all, at most ${modelCards.maxPerCardPerSecond} per card in any second ` +
      `(Lark allows 10: ${modelCards.maxPerCardPerSecond <= 10 ? 'within' : 'OVER'}), ${modelCards.refused} refused`,
  );

  console.log(`\nworker log: ${await logSummary(running)}`);
  console.log(`bench time: ${((Date.now() - benchStarted) / 1000).toFixed(0)} s`);
} finally {
  if (worker) console.log(`worker ${await stopWorkerProcess(worker)}`);
  if (sim) await sim.close().catch(() => {});
  if (probePool) await probePool.end().catch(() => {});
  if (pg) await pg.stop().catch(() => {});
  await fs.rm(dir, { recursive: true, force: true });
}
