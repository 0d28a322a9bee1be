// `npm run bench:inbound`: the real worker (hub, dispatcher, task runner, outbox), started as its own
// process exactly as in production, against the simulator. Prints ACK latency and ingest rate at a
// steady event rate, database round trips per message (counted by pg_stat_statements), reply latency
// through the outbox, the worker's CPU and memory, and ingest throughput at saturation, next to the
// goals.
//
// Sizes: BENCH_INSTALLATIONS (50), BENCH_RATE (200 events/s), BENCH_SECONDS (20),
// BENCH_SATURATION_MESSAGES (3000), BENCH_SATURATION_CONCURRENCY (64), BENCH_DRAIN_SECONDS (45),
// BENCH_IDLE_SECONDS (3). Worker settings (product defaults when unset): BENCH_WORKER_CONCURRENCY,
// BENCH_DISPATCH_CONCURRENCY. Simulator: BENCH_SIM_MAX_ATTEMPTS (sends per event; Lark's 4 when unset).
// BENCH_STATEMENTS=1 lists the statements per message.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
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
import { enableStatementTracking, readStatements, resetStatements, STATEMENT_TRACKING_FLAGS, type StatementWindow } from './query-counter';
import { describeBackends, describeUsage, LOOP_SAMPLE_MS, measureUsage, postmasterPid, processMemory, sampleBackends, type PhaseUsage } from './usage';

function setting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}

function optionalSetting(name: string): number | undefined {
  const value = setting(name, Number.NaN);
  return Number.isNaN(value) ? undefined : Math.round(value);
}

const INSTALLATIONS = Math.round(setting('BENCH_INSTALLATIONS', 50));
const RATE = setting('BENCH_RATE', 200);
const SECONDS = setting('BENCH_SECONDS', 20);
const SATURATION_MESSAGES = Math.round(setting('BENCH_SATURATION_MESSAGES', 3000));
const SATURATION_CONCURRENCY = Math.round(setting('BENCH_SATURATION_CONCURRENCY', 64));
const DRAIN_SECONDS = setting('BENCH_DRAIN_SECONDS', 45);
const IDLE_SECONDS = setting('BENCH_IDLE_SECONDS', 3);
const WORKER_CONCURRENCY = optionalSetting('BENCH_WORKER_CONCURRENCY');
const DISPATCH_CONCURRENCY = optionalSetting('BENCH_DISPATCH_CONCURRENCY');
const SIM_MAX_ATTEMPTS = optionalSetting('BENCH_SIM_MAX_ATTEMPTS');
const LIST_STATEMENTS = process.env.BENCH_STATEMENTS === '1';

const GOAL_ACK_P99_MS = 100;
const GOAL_ACK_RATE = 200;
const GOAL_SATURATION_PER_SECOND = 300;

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

// The load generator uses plain keep-alive http: cheaper per request than fetch, and it shares its
// event loop with the simulator.
const sendAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
/** IM message id -> text of every DM sent, to tell which message a simulator delivery carried. */
const sentTexts = new Map<string, string>();

function sendDm(sim: Simulator, target: Target, text: string, retried = false): Promise<{ chat_id: string }> {
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
          if (res.statusCode !== 200) return reject(new Error(`POST /_control/messages: ${res.statusCode} ${body}`));
          const sent = JSON.parse(body) as { chat_id: string; message_id: string };
          sentTexts.set(sent.message_id, text);
          resolve(sent);
        });
        res.on('error', reject);
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      // A kept-alive socket the server closed for idleness just as it was reused: the request never
      // reached the server, so sending it again cannot duplicate the message.
      if (req.reusedSocket && err.code === 'ECONNRESET' && !retried) sendDm(sim, target, text, true).then(resolve, reject);
      else reject(err);
    });
    req.end(payload);
  });
}

async function deliveriesSince(simUrl: string, targets: Target[], since: number): Promise<SimDelivery[]> {
  const all: SimDelivery[] = [];
  for (const t of targets) {
    const { deliveries } = await control<{ deliveries: SimDelivery[] }>(simUrl, 'GET', `/deliveries?app_id=${t.appId}`);
    all.push(...deliveries.filter((d) => d.created_at >= since));
  }
  return all;
}

// ---- the worker process ----

/** Figures taken after the worker died would describe nothing. */
async function assertWorkerRunning(w: WorkerProcess, phase: string): Promise<void> {
  if (!isRunning(w)) throw new Error(`the worker exited during ${phase} (${w.child.exitCode ?? w.child.signalCode}):\n${await logTail(w)}`);
}

type WorkerScrape = { counters: Map<string, number>; loopLagMs: { p50: number; p99: number; max: number } | null };

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
    for (const m of text.matchAll(/^larkspur_lark_(dispatch_outcomes|acks|events_received)_total(?:\{\w+="([^"]*)"\})? (\S+)$/gm)) {
      counters.set(m[2] === undefined ? m[1] : `${m[1]} ${m[2]}`, Number(m[3]));
    }
    // The histogram records whole sampling intervals (prom-client's default is LOOP_SAMPLE_MS); the excess is the delay.
    for (const m of text.matchAll(/^larkspur_worker_nodejs_eventloop_lag_(p50|p99|max)_seconds (\S+)$/gm)) gauges.set(m[1], Math.max(0, Number(m[2]) * 1000 - LOOP_SAMPLE_MS));
  } catch {
    // Reported as n/a.
  }
  const lag = (k: string) => gauges.get(k) ?? Number.NaN;
  return { counters, loopLagMs: gauges.size > 0 ? { p50: lag('p50'), p99: lag('p99'), max: lag('max') } : null };
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
  return `events received ${delta('events_received')}; dispatch outcomes: ${group('dispatch_outcomes')}; ACK codes: ${group('acks')}`;
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

function describeStatus(deliveries: SimDelivery[]): string {
  const status = { acked: 0, pending: 0, failed: 0 };
  for (const d of deliveries) status[d.status] += 1;
  return `${status.acked} acked / ${status.pending} pending / ${status.failed} failed`;
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

const token = (prefix: string, n: number) => `${prefix}${String(n).padStart(6, '0')}`;
const messageText = (prefix: string, n: number) => `bench message ${token(prefix, n)}`;
const tokenPattern = /\b([swz]\d{6})\b/;

const loadAverage = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ');

function verdict(met: boolean): string {
  return met ? 'MET' : 'MISSED';
}

const sources = (window: StatementWindow, perMessageOf: number) =>
  [...window.bySource].map(([source, n]) => `${source} ${(n / Math.max(1, perMessageOf)).toFixed(1)}`).join(', ');

function printStatements(label: string, window: StatementWindow, perMessageOf: number) {
  if (!LIST_STATEMENTS) return;
  console.log(`  statements ${label} (calls per message, mean execution ms at the server):`);
  for (const s of window.statements.slice(0, 40)) {
    const mean = s.calls > 0 ? s.totalMs / s.calls : Number.NaN;
    console.log(`    ${(s.calls / perMessageOf).toFixed(2).padStart(6)}  ${mean.toFixed(2).padStart(7)} ms  ${s.label}`);
  }
}

function cpuPerMessage(u: PhaseUsage, messages: number): string {
  const ms = (share: number | null) => (share === null ? 'n/a' : `${((share * u.seconds * 1000) / Math.max(1, messages)).toFixed(2)} ms`);
  return `worker ${ms(u.workerCpu)}, PostgreSQL ${ms(u.postgresCpu)}, bench process ${ms(u.processCpu)}`;
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
  const dataDir = path.join(dir, 'pg');
  pg = await startEmbeddedPostgres({ dataDir, persistent: false, extraFlags: STATEMENT_TRACKING_FLAGS });
  await ensureDatabase(pg.url('postgres'), 'bench');
  const url = pg.url('bench');
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
    ...(DISPATCH_CONCURRENCY !== undefined && { LARK_DISPATCH_CONCURRENCY: String(DISPATCH_CONCURRENCY) }),
  };
  const workerConfig = parseEnv(workerEnv);
  // As startWorker sizes its pool.
  const workerPoolSize = workerConfig.WORKER_CONCURRENCY + 20;
  const connectStarted = Date.now();
  worker = await startWorkerProcess(workerEnv, path.join(dir, 'worker.log'));
  const running = worker;
  const connected = await waitUntil(async () => {
    if (!isRunning(running)) throw new Error(`the worker exited during start-up:\n${await logTail(running)}`);
    for (const t of targets) {
      if ((await control<{ connections: number }>(simUrl, 'GET', `/apps/${t.appId}`)).connections !== 1) return false;
    }
    return true;
  }, 90_000, 500);
  if (!connected) throw new Error(`not every installation connected within 90 s; worker log:\n${await logTail(running)}`);
  const pids = { postgres: pgPid, worker: running.pid };
  const startMemory = await processMemory(running.pid);
  console.log(`machine: ${os.cpus().length} cores, load average ${loadAverage()} (1 / 5 / 15 min) before the run; other work on the machine shows up in every latency`);
  console.log(
    `worker: pid ${running.pid}, ${INSTALLATIONS} connections open ${((Date.now() - connectStarted) / 1000).toFixed(1)} s after spawn, RSS ${startMemory?.rssMiB.toFixed(0) ?? '?'} MiB ` +
      `(task concurrency ${workerConfig.WORKER_CONCURRENCY}, dispatch concurrency ${workerConfig.LARK_DISPATCH_CONCURRENCY}, pool ${workerPoolSize})`,
  );
  console.log(
    `simulator: ACK timeout ${simConfig.ackTimeoutMs} ms, up to ${simConfig.maxDeliveryAttempts} sends per event, redelivery n after ${simConfig.redeliveryBackoffMs} ms × n` +
      `${SIM_MAX_ATTEMPTS === undefined ? " (Lark's behaviour)" : ' (BENCH_SIM_MAX_ATTEMPTS)'}`,
  );

  // ---- warm-up: one DM per installation creates each chat session and the tenant tokens ----
  await Promise.all(targets.map(async (t, i) => (t.chatId = (await sendDm(sim!, t, messageText('w', i))).chat_id)));
  const warmedUp = await waitUntil(async () => (await scalar(`SELECT count(*)::int AS n FROM lark_outbox WHERE status = 'sent'`)) >= INSTALLATIONS, 60_000);
  if (!warmedUp) throw new Error('the warm-up replies did not all reach the simulator within 60 s');

  // ---- idle background: lease renewals, pollers ----
  await sleep(1000);
  await resetStatements(pool);
  const endIdleUsage = await measureUsage(pids);
  await sleep(IDLE_SECONDS * 1000);
  const idle = await readStatements(pool);
  const idleUsage = await endIdleUsage();
  const idlePerSecond = idle.total / IDLE_SECONDS;
  console.log(
    `idle background: ${idlePerSecond.toFixed(1)} statements/s (lease renewal, task and job pollers; ${sources(idle, IDLE_SECONDS)} per second); worker ${Math.round((idleUsage.workerCpu ?? 0) * 100)}% of a core`,
  );

  // ---- one message per chat, nothing else in flight: the round trips of one message's whole life ----
  await resetStatements(pool);
  const endCalibrationUsage = await measureUsage(pids);
  const calibrationStart = Date.now();
  await Promise.all(targets.map((t, i) => sendDm(sim!, t, messageText('c', i))));
  const calibrated = await waitUntil(async () => {
    const { rows } = await pool.query<{ sent: number; tasks: number }>(`SELECT
        (SELECT count(*) FROM lark_outbox WHERE status = 'sent')::int AS sent,
        (SELECT count(*) FROM agent_task WHERE status IN ('queued', 'running'))::int AS tasks`);
    return rows[0].sent >= 2 * INSTALLATIONS && rows[0].tasks === 0;
  }, 60_000, 50);
  const calibration = await readStatements(pool);
  const calibrationUsage = await endCalibrationUsage();
  const calibrationNet = calibration.total - idlePerSecond * ((Date.now() - calibrationStart) / 1000);
  console.log(
    `round trips per message, one at a time per chat: ${(calibrationNet / INSTALLATIONS).toFixed(1)} without the idle background (${calibration.total} statements for ${INSTALLATIONS} messages: dispatch + task run + outbox delivery; ${sources(calibration, INSTALLATIONS)}; ${calibration.nested} nested)${calibrated ? '' : ' — replies did NOT all arrive within 60 s'}`,
  );
  const calibrationHandler = handlerTimesByCode(await deliveriesSince(simUrl, targets, calibrationStart));
  console.log(`  handler time in the ACK, one at a time per chat: ${distribution(calibrationHandler.ok)}`);
  console.log(`  CPU per message, one at a time per chat (idle background included): ${cpuPerMessage(calibrationUsage, INSTALLATIONS)}`);
  printStatements('per message, one at a time per chat', calibration, INSTALLATIONS);

  // ---- steady rate ----
  const steadyCount = Math.max(1, Math.round(RATE * SECONDS));
  console.log(`\nsteady: ${steadyCount} DMs at ${RATE} events/s over ${INSTALLATIONS} installations…`);
  const steadyCountersBefore = await scrapeWorker(workerPort);
  await resetStatements(pool);
  const endSteadyUsage = await measureUsage(pids);
  const endLifecycleUsage = await measureUsage(pids);
  const endSteadySampling = sampleBackends(pool, WORKER_APP_NAME);
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
  const steadyWindowQueries = await readStatements(pool);
  const steadyWindowScrape = await scrapeWorker(workerPort);
  const windowSeconds = (steadyEnd - steadyStart) / 1000;
  const ingestedInWindow = await scalar(
    `SELECT count(*)::int AS n FROM chat_message WHERE role = 'user' AND content LIKE 'bench message s%'
       AND created_at >= to_timestamp($1::float8 / 1000) AND created_at <= to_timestamp($2::float8 / 1000)`,
    [steadyStart, steadyEnd],
  );

  // What the steady messages cause (tasks, replies) gets up to BENCH_DRAIN_SECONDS to finish before
  // the next phase; whatever is left is reported and carried into it. A message whose event the
  // simulator gave up on never arrives, so the drain also ends once no delivery is pending any more.
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
    if (left.tasks > 0 || left.outbox > 0) return false;
    if (left.missing <= 0) return true;
    return !(await deliveriesSince(simUrl, targets, steadyStart)).some((d) => d.status === 'pending');
  }, DRAIN_SECONDS * 1000, 250);
  const leftAfterDrain = await backlog();
  await assertWorkerRunning(running, 'the steady phase');
  const drainSeconds = (Date.now() - drainStarted) / 1000;
  const steadyLifecycleQueries = await readStatements(pool);
  const lifecycleUsage = await endLifecycleUsage();
  const steadyCountersAfter = await scrapeWorker(workerPort);

  const steadyDeliveries = await deliveriesSince(simUrl, targets, steadyStart);
  // created_at is stamped in the same synchronous step that writes the delivery's first frame.
  const ackLatencies: number[] = [];
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
  const steadyDistinct = steadyIngestedTotal - steadyDuplicates;
  const steadyGivenUp = await givenUp(pool, steadyDeliveries);

  const offered = steadyCount / windowSeconds;
  const ingestedPerSecond = ingestedInWindow / windowSeconds;
  const perMessageWindow = ingestedInWindow > 0 ? steadyWindowQueries.total / ingestedInWindow : Number.NaN;
  const lifecycleSeconds = lifecycleUsage.seconds;
  const lifecycleBackground = idlePerSecond * lifecycleSeconds;
  const perMessageLifecycle = steadyIngestedTotal > 0 ? steadyLifecycleQueries.total / steadyIngestedTotal : Number.NaN;
  const perMessageLifecycleNet = steadyIngestedTotal > 0 ? (steadyLifecycleQueries.total - lifecycleBackground) / steadyIngestedTotal : Number.NaN;

  console.log(`  sent: ${steadyCount} DMs in ${windowSeconds.toFixed(1)} s = ${offered.toFixed(1)} events/s offered (sender at most ${paced.maxBehind} behind schedule, ${paced.failures} failed sends)`);
  console.log(`  ACK latency (first send -> first ACK): ${distribution(ackLatencies)}`);
  const steadyHandler = handlerTimesByCode(steadyDeliveries);
  console.log(`  handler time reported in the first ACK (biz_rt, frame received -> ACK written): ACK 200 ${distribution(steadyHandler.ok)}; ACK 500 ${distribution(steadyHandler.retry)}`);
  console.log(`  ACK latency p99 by quarter of the window: ${quarterP99} ms`);
  console.log(`  ACK 200 share: ${((100 * firstAck200) / Math.max(1, steadyDeliveries.length)).toFixed(2)}% of ${steadyDeliveries.length} deliveries (${withoutAck} without ACK, ${redelivered} redelivered)`);
  console.log(`  deliveries in the simulator: ${describeStatus(steadyDeliveries)}; ${describeGivenUp(steadyGivenUp)}`);
  console.log(`  worker: ${describeCounters(steadyCountersBefore, steadyCountersAfter)}`);
  console.log(`  ingested during the window: ${ingestedPerSecond.toFixed(1)} messages/s (${ingestedInWindow} user chat_message rows in ${windowSeconds.toFixed(1)} s)`);
  console.log(`  ingested in total: ${steadyDistinct} of ${steadyCount}, duplicates ${steadyDuplicates}, missing ${steadyCount - steadyDistinct}`);
  console.log(
    `  round trips per ingested message, during the window: ${perMessageWindow.toFixed(1)} (${steadyWindowQueries.total} statements from the worker: dispatch + task runs + outbox delivery + background done in the window)`,
  );
  console.log(
    `  round trips per ingested message, full lifecycle: ${perMessageLifecycle.toFixed(1)} incl. background, ${perMessageLifecycleNet.toFixed(1)} without the idle background (window + ${drainSeconds.toFixed(1)} s drain; ${sources(steadyLifecycleQueries, steadyIngestedTotal)}; ${(steadyLifecycleQueries.nested / Math.max(1, steadyIngestedTotal)).toFixed(1)} nested)${drained ? '' : '; incomplete, work was still pending'}`,
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
  console.log(`  resources during the window (${steadyUsage.seconds.toFixed(1)} s): ${describeUsage(steadyUsage)}; ${describeLoopLag(steadyWindowScrape)}; load average ${loadAverage()}`);
  console.log(`  CPU per ingested message over the full lifecycle (${lifecycleSeconds.toFixed(1)} s): ${cpuPerMessage(lifecycleUsage, steadyIngestedTotal)}`);
  console.log(
    `  PostgreSQL time per ingested message over the full lifecycle: ${(steadyLifecycleQueries.totalMs / Math.max(1, steadyIngestedTotal)).toFixed(2)} ms executing the worker's statements (lock waits included; parse, plan and protocol not)`,
  );
  console.log(`  ${describeBackends(steadyBackends, workerPoolSize)}`);
  printStatements('over the full steady lifecycle', steadyLifecycleQueries, Math.max(1, steadyIngestedTotal));

  // ---- saturation ----
  console.log(`\nsaturation: ${SATURATION_MESSAGES} DMs, ${SATURATION_CONCURRENCY} sends in flight…`);
  const satCountersBefore = await scrapeWorker(workerPort);
  await resetStatements(pool);
  const endSatUsage = await measureUsage(pids);
  const endSatSampling = sampleBackends(pool, WORKER_APP_NAME);
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
  await assertWorkerRunning(running, 'saturation');
  const satBackends = await endSatSampling();
  const satQueries = await readStatements(pool);
  const satCountersAfter = await scrapeWorker(workerPort);
  // Deliveries still waiting for a redelivery are counted too; give them a moment to settle.
  await waitUntil(async () => !(await deliveriesSince(simUrl, targets, satStart)).some((d) => d.status === 'pending'), 20_000, 1000);
  const sat = await countSaturation();
  const satDeliveries = await deliveriesSince(simUrl, targets, satStart);
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

  // ---- goals ----
  console.log('\ngoals:');
  const rateNote = RATE === GOAL_ACK_RATE ? '' : ` (measured at ${RATE} events/s, not the goal's ${GOAL_ACK_RATE})`;
  console.log(`  p99 ACK < ${GOAL_ACK_P99_MS} ms at ${GOAL_ACK_RATE} events/s: ${verdict(ackP99 < GOAL_ACK_P99_MS && RATE >= GOAL_ACK_RATE)} — p99 ${ackP99.toFixed(1)} ms${rateNote}`);
  console.log(`  >= ${GOAL_SATURATION_PER_SECOND} ingested messages/s at saturation: ${verdict(satPerSecond >= GOAL_SATURATION_PER_SECOND)} — ${satPerSecond.toFixed(1)} messages/s`);
  console.log(
    `  exactly once at saturation: ${verdict(exactlyOnce)} — duplicates ${sat.rows - sat.distinct}, missing ${satSent - sat.distinct}, events the simulator gave up on ${satGivenUp.deliveries}`,
  );

  console.log(`\nworker log: ${await logSummary(running)}`);
} finally {
  if (worker) console.log(`worker ${await stopWorkerProcess(worker)}`);
  sendAgent.destroy();
  if (sim) await sim.close().catch(() => {});
  if (probePool) await probePool.end().catch(() => {});
  if (pg) await pg.stop().catch(() => {});
  await fs.rm(dir, { recursive: true, force: true });
}
