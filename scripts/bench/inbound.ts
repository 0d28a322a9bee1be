// `npm run bench:inbound`: the real worker (hub, dispatcher, task runner, outbox) against the in-process
// simulator. Prints ACK latency and ingest rate at a steady event rate, database round trips per
// message, reply latency through the outbox, and ingest throughput at saturation, next to the goals.
//
// Sizes: BENCH_INSTALLATIONS (50), BENCH_RATE (200 events/s), BENCH_SECONDS (20),
// BENCH_SATURATION_MESSAGES (3000), BENCH_SATURATION_CONCURRENCY (64), BENCH_DRAIN_SECONDS (45),
// BENCH_IDLE_SECONDS (3), BENCH_WORKER_CONCURRENCY (the product default when unset), BENCH_STATEMENTS=1 lists
// the statements per message.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { createDb, createPool } from '../../server/db/client';
import { applyMigrations } from '../../server/db/migrate';
import { agent, larkInstallation, larkUserBinding, member, user, workspace } from '../../server/db/schema';
import { SecretBox } from '../../server/crypto/secretbox';
import { parseEnv } from '../../server/env';
import type { LarkIntegration } from '../../server/lark/integration';
import { startSimulator, type Simulator } from '../../simulator/server';
import { startWorker, type RunningWorker } from '../../worker/worker';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedServer } from '../embedded-postgres';
import { installQueryCounter, queriesBetween, type QuerySnapshot } from './query-counter';
import { describeBackends, describeUsage, measureUsage, postmasterPid, sampleBackends } from './usage';

function setting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}

const INSTALLATIONS = Math.round(setting('BENCH_INSTALLATIONS', 50));
const RATE = setting('BENCH_RATE', 200);
const SECONDS = setting('BENCH_SECONDS', 20);
const SATURATION_MESSAGES = Math.round(setting('BENCH_SATURATION_MESSAGES', 3000));
const SATURATION_CONCURRENCY = Math.round(setting('BENCH_SATURATION_CONCURRENCY', 64));
const DRAIN_SECONDS = setting('BENCH_DRAIN_SECONDS', 45);
const IDLE_SECONDS = setting('BENCH_IDLE_SECONDS', 3);
const LIST_STATEMENTS = process.env.BENCH_STATEMENTS === '1';

const GOAL_ACK_P99_MS = 100;
const GOAL_ACK_RATE = 200;
const GOAL_SATURATION_PER_SECOND = 300;

type SimDelivery = {
  event_id: string;
  message_id: string;
  attempts: number;
  acks: Array<{ code: number | null; biz_rt: string | null; at: number }>;
  status: 'pending' | 'acked' | 'failed';
  created_at: number;
};
type SimChatMessage = { sender: { type: 'user' | 'app' }; content: unknown; create_time: number };
type Target = { appId: string; simUserId: string; chatId: string | null };

const key = randomBytes(32);
const box = new SecretBox(key);

// ---- simulator control API ----

async function control<T>(base: string, method: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}/_control${route}`, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

// The load generator uses plain keep-alive http: cheaper per request than fetch, and it shares the
// event loop with the simulator and the worker.
const sendAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function sendDm(sim: Simulator, target: Target, text: string): Promise<{ chat_id: string }> {
  const payload = JSON.stringify({ user_id: target.simUserId, app_id: target.appId, text });
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: sim.port,
        path: '/_control/messages',
        method: 'POST',
        agent: sendAgent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) reject(new Error(`POST /_control/messages: ${res.statusCode} ${body}`));
          else resolve(JSON.parse(body) as { chat_id: string });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

// ---- helpers ----

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

const token = (prefix: string, n: number) => `${prefix}${String(n).padStart(6, '0')}`;
const messageText = (prefix: string, n: number) => `bench message ${token(prefix, n)}`;
const tokenPattern = /\b([swz]\d{6})\b/;

const loadAverage = () => os.loadavg()[0].toFixed(1);

function verdict(met: boolean): string {
  return met ? 'MET' : 'MISSED';
}

function printStatements(label: string, window: QuerySnapshot, perMessageOf: number) {
  if (!LIST_STATEMENTS) return;
  console.log(`  statements ${label} (count per message, mean ms at the driver):`);
  const rows = [...window.statements.values()].sort((a, b) => b.count - a.count).slice(0, 40);
  for (const s of rows) {
    const mean = s.timed > 0 ? s.totalMs / s.timed : Number.NaN;
    console.log(`    ${(s.count / perMessageOf).toFixed(2).padStart(6)}  ${mean.toFixed(1).padStart(6)} ms  ${s.label}`);
  }
}

// ---- run ----

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'larkspur-bench-inbound-'));
await fs.chmod(dir, 0o777);
// Last resort if the process is interrupted: the embedded server's own exit hook stops PostgreSQL.
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

let pg: EmbeddedServer | null = null;
let sim: Simulator | null = null;
let worker: RunningWorker | null = null;
let benchPool: ReturnType<typeof createPool> | null = null;
const counter = installQueryCounter();

try {
  const dataDir = path.join(dir, 'pg');
  pg = await startEmbeddedPostgres({ dataDir, persistent: false });
  await ensureDatabase(pg.url('postgres'), 'bench');
  const url = pg.url('bench');
  await applyMigrations(url);
  const pgPid = await postmasterPid(dataDir);

  benchPool = createPool(url, 4);
  benchPool.on('connect', (client) => counter.ignore(client));
  const pool = benchPool;
  const db = createDb(pool);
  const scalar = async (text: string, values: unknown[] = []) => Number((await pool.query(text, values)).rows[0]?.n ?? 0);

  sim = await startSimulator({
    port: 0,
    rateLimitPerSecond: 1_000_000,
    rateLimitPerMinute: 10_000_000,
    chatRateLimitPerSecond: 1_000_000,
    patchRateLimitPerSecond: 1_000_000,
  });
  const simUrl = sim.url;

  // ---- seed: one workspace member; per installation an echo agent, a bot and a bound Lark user ----
  console.log(`seeding ${INSTALLATIONS} installations…`);
  const [owner] = await db.insert(user).values({ id: randomBytes(8).toString('hex'), name: 'Bench', email: `bench-${Date.now()}@example.com` }).returning();
  const [ws] = await db.insert(workspace).values({ name: 'Bench', slug: `bench-${Date.now()}`, issuePrefix: 'BEN' }).returning();
  await db.insert(member).values({ workspaceId: ws.id, userId: owner.id, role: 'owner' });
  const { tenant_key } = await control<{ tenant_key: string }>(simUrl, 'POST', '/tenants', { brand: 'feishu', name: 'Bench' });
  const targets: Target[] = [];
  const installationRows: Array<typeof larkInstallation.$inferInsert> = [];
  const openIds = new Map<string, string>();
  for (let i = 0; i < INSTALLATIONS; i++) {
    const app = await control<{ app_id: string; app_secret: string }>(simUrl, 'POST', '/apps', { tenant_key, name: `Bot ${i}` });
    const info = await control<{ bot_open_id: string; bot_union_id: string }>(simUrl, 'GET', `/apps/${app.app_id}`);
    const larkUser = await control<{ id: string }>(simUrl, 'POST', '/users', { tenant_key, name: `Lark user ${i}` });
    const { open_id } = await control<{ open_id: string }>(simUrl, 'GET', `/apps/${app.app_id}/open-id?user_id=${encodeURIComponent(larkUser.id)}`);
    const [a] = await db
      .insert(agent)
      .values({ workspaceId: ws.id, ownerUserId: owner.id, name: `Agent ${i}`, avatarColor: '#336699', runtimeKind: 'echo' })
      .returning();
    installationRows.push({
      workspaceId: ws.id,
      agentId: a.id,
      appId: app.app_id,
      appSecretCiphertext: box.seal(app.app_secret),
      tenantKey: tenant_key,
      botOpenId: info.bot_open_id,
      botUnionId: info.bot_union_id,
      installerUserId: owner.id,
    });
    openIds.set(app.app_id, open_id);
    targets.push({ appId: app.app_id, simUserId: larkUser.id, chatId: null });
  }
  for (let i = 0; i < installationRows.length; i += 200) {
    const inserted = await db.insert(larkInstallation).values(installationRows.slice(i, i + 200)).returning({ id: larkInstallation.id, appId: larkInstallation.appId });
    await db.insert(larkUserBinding).values(inserted.map((r) => ({ workspaceId: ws.id, installationId: r.id, userId: owner.id, larkOpenId: openIds.get(r.appId)! })));
  }

  // ---- the worker, composed as `npm run worker` composes it ----
  const config = parseEnv({
    DATABASE_URL: url,
    LARK_SECRET_KEY: key.toString('base64'),
    LARK_OPEN_BASE_URL: `${simUrl}/{region}`,
    LARK_ACCOUNTS_BASE_URL: `${simUrl}/{region}`,
    LOG_LEVEL: 'silent',
    WORKER_CONCURRENCY: process.env.BENCH_WORKER_CONCURRENCY,
  });
  // Anything that falls back to the process-wide logger stays quiet as well.
  process.env.LOG_LEVEL = 'silent';
  const integration: LarkIntegration = {
    configured: true,
    box,
    hosts: { openBaseUrl: config.LARK_OPEN_BASE_URL, accountsBaseUrl: config.LARK_ACCOUNTS_BASE_URL },
    httpTimeoutMs: config.LARK_HTTP_TIMEOUT_MS,
  };
  const connectStarted = Date.now();
  worker = await startWorker({ config, integration, nodeId: 'bench-inbound', logger: pino({ level: 'silent' }) });
  const connected = await waitUntil(async () => {
    for (const t of targets) {
      if ((await control<{ connections: number }>(simUrl, 'GET', `/apps/${t.appId}`)).connections !== 1) return false;
    }
    return true;
  }, 60_000, 500);
  if (!connected) throw new Error('not every installation connected within 60 s');
  const workerPool = (worker.db as unknown as { $client: Parameters<typeof sampleBackends>[1] }).$client;
  console.log(`machine: ${os.cpus().length} cores, 1-minute load average ${loadAverage()} before the run (other work on the machine shows up in every latency)`);
  console.log(`worker: ${INSTALLATIONS} connections open after ${((Date.now() - connectStarted) / 1000).toFixed(1)} s (task concurrency ${config.WORKER_CONCURRENCY})`);

  // ---- warm-up: one DM per installation creates each chat session and the tenant tokens ----
  await Promise.all(targets.map(async (t, i) => (t.chatId = (await sendDm(sim!, t, messageText('w', i))).chat_id)));
  const warmedUp = await waitUntil(async () => (await scalar(`SELECT count(*)::int AS n FROM lark_outbox WHERE status = 'sent'`)) >= INSTALLATIONS, 60_000);
  if (!warmedUp) throw new Error('the warm-up replies did not all reach the simulator within 60 s');

  // ---- idle background: lease renewals, pollers ----
  await sleep(1000);
  const idleBefore = counter.snapshot();
  await sleep(IDLE_SECONDS * 1000);
  const idlePerSecond = queriesBetween(idleBefore, counter.snapshot()).total / IDLE_SECONDS;
  console.log(`idle background: ${idlePerSecond.toFixed(1)} statements/s (lease renewal, task and job pollers)`);

  // ---- one message per chat, nothing else in flight: the round trips of one message's whole life ----
  const calibrationBefore = counter.snapshot();
  const calibrationStart = Date.now();
  await Promise.all(targets.map((t, i) => sendDm(sim!, t, messageText('c', i))));
  const calibrated = await waitUntil(async () => {
    const { rows } = await pool.query<{ sent: number; tasks: number }>(`SELECT
        (SELECT count(*) FROM lark_outbox WHERE status = 'sent')::int AS sent,
        (SELECT count(*) FROM agent_task WHERE status IN ('queued', 'running'))::int AS tasks`);
    return rows[0].sent >= 2 * INSTALLATIONS && rows[0].tasks === 0;
  }, 60_000, 50);
  const calibration = queriesBetween(calibrationBefore, counter.snapshot());
  const calibrationNet = calibration.total - idlePerSecond * ((Date.now() - calibrationStart) / 1000);
  const calibrationSources = [...calibration.bySource].map(([source, n]) => `${source} ${(n / INSTALLATIONS).toFixed(1)}`).join(', ');
  console.log(
    `round trips per message, one at a time per chat: ${(calibrationNet / INSTALLATIONS).toFixed(1)} without the idle background (${calibration.total} statements for ${INSTALLATIONS} messages: dispatch + task run + outbox delivery; ${calibrationSources})${calibrated ? '' : ' — replies did NOT all arrive within 60 s'}`,
  );
  printStatements('per message, one at a time per chat', calibration, INSTALLATIONS);

  // ---- steady rate ----
  const steadyCount = Math.max(1, Math.round(RATE * SECONDS));
  console.log(`\nsteady: ${steadyCount} DMs at ${RATE} events/s over ${INSTALLATIONS} installations…`);
  const endSteadyUsage = await measureUsage(pgPid);
  const endSteadySampling = sampleBackends(pool, workerPool);
  const steadyQueriesBefore = counter.snapshot();
  const steadyStart = Date.now();
  const paced = await new Promise<{ maxBehind: number; failures: number }>((resolve) => {
    const startedAt = performance.now();
    let next = 0;
    let inFlight = 0;
    let completed = 0;
    let failures = 0;
    let maxBehind = 0;
    const maxInFlight = 256;
    const launch = (n: number) => {
      inFlight += 1;
      sendDm(sim!, targets[n % targets.length], messageText('s', n))
        .catch(() => (failures += 1))
        .finally(() => {
          inFlight -= 1;
          completed += 1;
          if (completed === steadyCount) resolve({ maxBehind, failures });
        });
    };
    const tick = () => {
      const due = Math.min(steadyCount, Math.floor(((performance.now() - startedAt) * RATE) / 1000) + 1);
      while (next < due && inFlight < maxInFlight) launch(next++);
      maxBehind = Math.max(maxBehind, due - next);
      if (next < steadyCount) setTimeout(tick, 2);
    };
    tick();
  });
  const steadyEnd = Date.now();
  const steadyUsage = await endSteadyUsage();
  const steadyBackends = await endSteadySampling();
  const steadyWindowQueries = queriesBetween(steadyQueriesBefore, counter.snapshot());
  const windowSeconds = (steadyEnd - steadyStart) / 1000;
  const ingestedInWindow = await scalar(
    `SELECT count(*)::int AS n FROM chat_message WHERE role = 'user' AND content LIKE 'bench message s%'
       AND created_at >= to_timestamp($1::float8 / 1000) AND created_at <= to_timestamp($2::float8 / 1000)`,
    [steadyStart, steadyEnd],
  );

  // What the steady messages cause (tasks, replies) gets up to BENCH_DRAIN_SECONDS to finish before
  // the next phase; whatever is left is reported and carried into it.
  const drainStarted = Date.now();
  const backlog = async () =>
    (
      await pool.query<{ missing: number; tasks: number; outbox: number }>(
        `SELECT
           $1::int - (SELECT count(DISTINCT content) FROM chat_message WHERE role = 'user' AND content LIKE 'bench message s%')::int AS missing,
           (SELECT count(*) FROM agent_task WHERE status IN ('queued', 'running'))::int AS tasks,
           (SELECT count(*) FROM lark_outbox WHERE status = 'pending')::int AS outbox`,
        [steadyCount],
      )
    ).rows[0];
  const drained = await waitUntil(async () => {
    const left = await backlog();
    return left.missing <= 0 && left.tasks === 0 && left.outbox === 0;
  }, DRAIN_SECONDS * 1000, 250);
  const leftAfterDrain = await backlog();
  const drainSeconds = (Date.now() - drainStarted) / 1000;
  const steadyLifecycleQueries = queriesBetween(steadyQueriesBefore, counter.snapshot());
  const lifecycleSeconds = (Date.now() - steadyStart) / 1000;

  const steadyDeliveries: SimDelivery[] = [];
  for (const t of targets) {
    const { deliveries } = await control<{ deliveries: SimDelivery[] }>(simUrl, 'GET', `/deliveries?app_id=${t.appId}`);
    steadyDeliveries.push(...deliveries.filter((d) => d.created_at >= steadyStart));
  }
  // created_at is stamped in the same synchronous step that writes the delivery's first frame.
  const ackLatencies: number[] = [];
  const handlerTimes: number[] = [];
  let firstAck200 = 0;
  let withoutAck = 0;
  let redelivered = 0;
  for (const d of steadyDeliveries) {
    if (d.attempts > 1) redelivered += 1;
    const first = d.acks[0];
    if (!first) {
      withoutAck += 1;
      continue;
    }
    ackLatencies.push(first.at - d.created_at);
    if (first.biz_rt !== null && Number.isFinite(Number(first.biz_rt))) handlerTimes.push(Number(first.biz_rt));
    if (first.code === 200) firstAck200 += 1;
  }
  const ackSorted = [...ackLatencies].sort((a, b) => a - b);
  // A latency that keeps growing through the window means the offered rate exceeds what is served.
  const quarters: number[][] = [[], [], [], []];
  for (const d of steadyDeliveries) {
    if (!d.acks[0]) continue;
    const quarter = Math.min(3, Math.floor(((d.created_at - steadyStart) / Math.max(1, steadyEnd - steadyStart)) * 4));
    quarters[quarter].push(d.acks[0].at - d.created_at);
  }
  const quarterP99 = quarters.map((q) => percentile([...q].sort((a, b) => a - b), 99).toFixed(0)).join(', ');
  const ackP99 = percentile(ackSorted, 99);

  // Reply latency, end to end: the user's message and the bot's answer in the simulator transcript.
  const sentAt = new Map<string, number>();
  const repliedAt = new Map<string, number>();
  let botReplies = 0;
  for (const t of targets) {
    const { messages } = await control<{ messages: SimChatMessage[] }>(simUrl, 'GET', `/chats/${t.chatId}/messages`);
    for (const m of messages) {
      const found = tokenPattern.exec(JSON.stringify(m.content))?.[1];
      if (!found?.startsWith('s')) continue;
      const at = Number(m.create_time);
      if (m.sender.type === 'user') sentAt.set(found, at);
      else {
        botReplies += 1;
        if (!repliedAt.has(found) || repliedAt.get(found)! > at) repliedAt.set(found, at);
      }
    }
  }
  const replyLatencies: number[] = [];
  for (const [tok, at] of repliedAt) {
    const sent = sentAt.get(tok);
    if (sent !== undefined) replyLatencies.push(at - sent);
  }
  const outboxRows = await pool.query<{ ms: number }>(
    `SELECT (extract(epoch FROM sent_at - created_at) * 1000)::float8 AS ms FROM lark_outbox
     WHERE kind = 'agent_reply' AND status = 'sent' AND created_at >= to_timestamp($1::float8 / 1000)`,
    [steadyStart],
  );
  const throughput = await pool.query<{ tasks_per_s: number | null; outbox_per_s: number | null }>(
    `SELECT
       (SELECT count(*) / nullif(extract(epoch FROM max(finished_at) - min(started_at)), 0) FROM agent_task
          WHERE status = 'completed' AND created_at >= to_timestamp($1::float8 / 1000))::float8 AS tasks_per_s,
       (SELECT count(*) / nullif(extract(epoch FROM max(sent_at) - min(sent_at)), 0) FROM lark_outbox
          WHERE status = 'sent' AND created_at >= to_timestamp($1::float8 / 1000))::float8 AS outbox_per_s`,
    [steadyStart],
  );
  const taskRows = await pool.query<{ wait_ms: number; run_ms: number }>(
    `SELECT (extract(epoch FROM started_at - created_at) * 1000)::float8 AS wait_ms,
            (extract(epoch FROM finished_at - started_at) * 1000)::float8 AS run_ms
     FROM agent_task WHERE finished_at IS NOT NULL AND created_at >= to_timestamp($1::float8 / 1000)`,
    [steadyStart],
  );
  const steadyDuplicates = await scalar(
    `SELECT (count(*) - count(DISTINCT content))::int AS n FROM chat_message WHERE role = 'user' AND content LIKE 'bench message s%'`,
  );
  const steadyIngestedTotal = await scalar(`SELECT count(*)::int AS n FROM chat_message WHERE role = 'user' AND content LIKE 'bench message s%'`);

  const offered = steadyCount / windowSeconds;
  const ingestedPerSecond = ingestedInWindow / windowSeconds;
  const perMessageWindow = ingestedInWindow > 0 ? steadyWindowQueries.total / ingestedInWindow : Number.NaN;
  const lifecycleBackground = idlePerSecond * lifecycleSeconds;
  const perMessageLifecycle = steadyIngestedTotal > 0 ? steadyLifecycleQueries.total / steadyIngestedTotal : Number.NaN;
  const perMessageLifecycleNet = steadyIngestedTotal > 0 ? (steadyLifecycleQueries.total - lifecycleBackground) / steadyIngestedTotal : Number.NaN;
  const sourceShares = [...steadyLifecycleQueries.bySource].map(([s, n]) => `${s} ${(n / Math.max(1, steadyIngestedTotal)).toFixed(1)}`).join(', ');

  console.log(`  sent: ${steadyCount} DMs in ${windowSeconds.toFixed(1)} s = ${offered.toFixed(1)} events/s offered (sender at most ${paced.maxBehind} behind schedule, ${paced.failures} failed sends)`);
  console.log(`  ACK latency (first send -> first ACK): ${distribution(ackLatencies)}`);
  console.log(`  handler time reported in the ACK (biz_rt, frame received -> ACK written): ${distribution(handlerTimes)}`);
  console.log(`  ACK latency p99 by quarter of the window: ${quarterP99} ms`);
  console.log(`  ACK 200 share: ${((100 * firstAck200) / Math.max(1, steadyDeliveries.length)).toFixed(2)}% of ${steadyDeliveries.length} deliveries (${withoutAck} without ACK, ${redelivered} redelivered)`);
  console.log(`  ingested during the window: ${ingestedPerSecond.toFixed(1)} messages/s (${ingestedInWindow} user chat_message rows in ${windowSeconds.toFixed(1)} s)`);
  console.log(`  ingested in total: ${steadyIngestedTotal} of ${steadyCount}, duplicates ${steadyDuplicates}`);
  console.log(`  round trips per ingested message, during the window: ${perMessageWindow.toFixed(1)} (${steadyWindowQueries.total} statements, all pools: dispatch + task runs + outbox delivery + background done in the window)`);
  console.log(
    `  round trips per ingested message, full lifecycle: ${perMessageLifecycle.toFixed(1)} incl. background, ${perMessageLifecycleNet.toFixed(1)} without the idle background (window + ${drainSeconds.toFixed(1)} s drain; ${sourceShares})${drained ? '' : '; incomplete, work was still pending'}`,
  );
  console.log(
    drained
      ? `  drain: every task and reply done ${drainSeconds.toFixed(1)} s after the last send`
      : `  drain: NOT done ${drainSeconds.toFixed(1)} s after the last send: ${leftAfterDrain.missing} messages not ingested, ${leftAfterDrain.tasks} tasks and ${leftAfterDrain.outbox} replies pending (carried into saturation; reply figures below cover only what was delivered)`,
  );
  console.log(`  task queue wait (queued -> started): ${distribution(taskRows.rows.map((r) => r.wait_ms))}`);
  console.log(`  task run (started -> finished): ${distribution(taskRows.rows.map((r) => r.run_ms))}`);
  console.log(`  outbox delivery (lark_outbox created -> sent): ${distribution(outboxRows.rows.map((r) => r.ms))}`);
  console.log(`  reply latency (user message -> bot reply in the simulator): ${distribution(replyLatencies)}`);
  console.log(`  replies: ${botReplies} bot replies quote ${repliedAt.size} distinct messages of ${steadyCount} (${botReplies - repliedAt.size} quote a message that already had its answer)`);
  const rate = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(1)}/s`);
  console.log(`  throughput after the window: tasks completed ${rate(throughput.rows[0].tasks_per_s)}, outbox rows sent ${rate(throughput.rows[0].outbox_per_s)} (first start -> last finish)`);
  console.log(`  resources during the window: ${describeUsage(steadyUsage)}, load average ${loadAverage()}`);
  console.log(`  ${describeBackends(steadyBackends)}`);
  printStatements('over the full steady lifecycle', steadyLifecycleQueries, Math.max(1, steadyIngestedTotal));

  // ---- saturation ----
  console.log(`\nsaturation: ${SATURATION_MESSAGES} DMs, ${SATURATION_CONCURRENCY} sends in flight…`);
  const endSatUsage = await measureUsage(pgPid);
  const endSatSampling = sampleBackends(pool, workerPool);
  const satQueriesBefore = counter.snapshot();
  const satStart = Date.now();
  let satNext = 0;
  let satFailures = 0;
  await Promise.all(
    Array.from({ length: SATURATION_CONCURRENCY }, async () => {
      while (satNext < SATURATION_MESSAGES) {
        const n = satNext++;
        await sendDm(sim!, targets[n % targets.length], messageText('z', n)).catch(() => (satFailures += 1));
      }
    }),
  );
  const satSendsDone = Date.now();
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
  const satBackends = await endSatSampling();
  const satQueries = queriesBetween(satQueriesBefore, counter.snapshot());
  // Deliveries still waiting for a redelivery are counted too; give them a moment to settle.
  await waitUntil(async () => {
    for (const t of targets) {
      const { deliveries } = await control<{ deliveries: SimDelivery[] }>(simUrl, 'GET', `/deliveries?app_id=${t.appId}`);
      if (deliveries.some((d) => d.created_at >= satStart && d.status === 'pending')) return false;
    }
    return true;
  }, 10_000, 1000);
  const sat = await countSaturation();
  const satDeliveries: SimDelivery[] = [];
  for (const t of targets) {
    const { deliveries } = await control<{ deliveries: SimDelivery[] }>(simUrl, 'GET', `/deliveries?app_id=${t.appId}`);
    satDeliveries.push(...deliveries.filter((d) => d.created_at >= satStart));
  }
  const satFirst200 = satDeliveries.filter((d) => d.acks[0]?.code === 200).length;
  const satRedelivered = satDeliveries.filter((d) => d.attempts > 1).length;
  const satStatus = { acked: 0, pending: 0, failed: 0 };
  for (const d of satDeliveries) satStatus[d.status] += 1;
  const satSeconds = sat.last_ms ? (sat.last_ms - satStart) / 1000 : Number.NaN;
  const satPerSecond = sat.distinct / satSeconds;
  const satSent = SATURATION_MESSAGES - satFailures;
  const exactlyOnce = sat.distinct === satSent && sat.rows === sat.distinct;
  const satAckLatencies = satDeliveries.filter((d) => d.acks[0]).map((d) => d.acks[0].at - d.created_at);

  console.log(`  sent: ${satSent} DMs in ${((satSendsDone - satStart) / 1000).toFixed(1)} s = ${(satSent / ((satSendsDone - satStart) / 1000)).toFixed(1)} events/s offered (${satFailures} failed sends)`);
  console.log(`  ingested: ${satPerSecond.toFixed(1)} messages/s (${sat.distinct} messages, first send -> last chat_message written in ${satSeconds.toFixed(1)} s)`);
  console.log(`  exactly once: ${exactlyOnce ? 'yes' : 'NO'} (${satSent} sent, ${sat.rows} chat_message rows, ${sat.distinct} distinct, duplicates ${sat.rows - sat.distinct}, missing ${satSent - sat.distinct})`);
  console.log(
    `  deliveries: ${satDeliveries.length}, first ACK 200 ${((100 * satFirst200) / Math.max(1, satDeliveries.length)).toFixed(2)}%, ${satRedelivered} redelivered, final ${satStatus.acked} acked / ${satStatus.pending} pending / ${satStatus.failed} failed`,
  );
  console.log(`  ACK latency at saturation: ${distribution(satAckLatencies)}`);
  console.log(`  round trips per ingested message: ${(satQueries.total / Math.max(1, sat.distinct)).toFixed(1)} (all pools, tasks and replies done meanwhile included)`);
  console.log(`  resources: ${describeUsage(satUsage)}, load average ${loadAverage()}`);
  console.log(`  ${describeBackends(satBackends)}`);
  printStatements('during saturation', satQueries, Math.max(1, sat.distinct));

  // ---- goals ----
  console.log('\ngoals:');
  const rateNote = RATE === GOAL_ACK_RATE ? '' : ` (measured at ${RATE} events/s, not the goal's ${GOAL_ACK_RATE})`;
  console.log(`  p99 ACK < ${GOAL_ACK_P99_MS} ms at ${GOAL_ACK_RATE} events/s: ${verdict(ackP99 < GOAL_ACK_P99_MS && RATE >= GOAL_ACK_RATE)} — p99 ${ackP99.toFixed(1)} ms${rateNote}`);
  console.log(`  >= ${GOAL_SATURATION_PER_SECOND} ingested messages/s at saturation: ${verdict(satPerSecond >= GOAL_SATURATION_PER_SECOND)} — ${satPerSecond.toFixed(1)} messages/s`);
  console.log(`  exactly once at saturation: ${verdict(exactlyOnce)} — duplicates ${sat.rows - sat.distinct}, missing ${satSent - sat.distinct}`);
} finally {
  if (worker) await Promise.race([worker.stop().catch(() => {}), sleep(30_000)]);
  sendAgent.destroy();
  if (sim) await sim.close().catch(() => {});
  if (benchPool) await benchPool.end().catch(() => {});
  counter.uninstall();
  if (pg) await pg.stop().catch(() => {});
  await fs.rm(dir, { recursive: true, force: true });
}
