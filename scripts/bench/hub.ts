// `npm run bench:hub`: one worker holding many Lark installations against the simulator, next to the
// goals. Prints statements per renewal tick at growing sizes, memory per held connection (measured
// once every connection is open, against the same process holding none), and how long a second
// worker takes to own and reconnect every bot after the first is killed with SIGKILL. Both workers
// run at the product defaults (lease TTL, renewal, sweep, node heartbeat).
//
// Sizes: BENCH_INSTALLATIONS (1000), BENCH_SETTLE_SECONDS (5, quiet time before a memory sample).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import { createDb, createPool, type Db } from '../../server/db/client';
import { PgListener } from '../../server/db/listen';
import { applyMigrations } from '../../server/db/migrate';
import { agent, larkInstallation, member, user, workspace } from '../../server/db/schema';
import { SecretBox } from '../../server/crypto/secretbox';
import { parseEnv } from '../../server/env';
import { LARK_INSTALLATION_CHANNEL } from '../../server/events';
import { NODE_FENCE_AFTER_MS, NODE_HEARTBEAT_MS, NODE_STALE_AFTER_MS } from '../../server/ops/node-registry';
import { startSimulator } from '../../simulator/server';
import { LarkHub } from '../../server/lark/hub/hub';
import { ensureDatabase, freePort, startEmbeddedPostgres } from '../embedded-postgres';
import { logSummary, repoRoot } from '../worker-process';
import { processCpuSeconds } from './usage';
import { setting } from './settings';

const INSTALLATIONS = Math.round(setting('BENCH_INSTALLATIONS', 1000));
const SETTLE_MS = setting('BENCH_SETTLE_SECONDS', 5) * 1000;

const GOAL_STATEMENTS_PER_TICK = 1;
const GOAL_KIB_PER_CONNECTION = 50;
const GOAL_TAKEOVER_MS = 15_000;

const key = randomBytes(32);
const box = new SecretBox(key);
const defaults = parseEnv({ DATABASE_URL: 'postgres://localhost/unused' });

const loadAverage = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ');
const verdict = (met: boolean) => (met ? 'MET' : 'MISSED');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function control<T>(base: string, method: string, p: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}/_control${p}`, { method, headers: { 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return (res.status === 204 ? null : await res.json()) as T;
}

async function seed(db: Db, simUrl: string, count: number) {
  const [u] = await db.insert(user).values({ id: randomBytes(8).toString('hex'), name: 'Bench', email: `bench-${Date.now()}@example.com` }).returning();
  const [ws] = await db.insert(workspace).values({ name: 'Bench', slug: `bench-${Date.now()}`, issuePrefix: 'BEN' }).returning();
  await db.insert(member).values({ workspaceId: ws.id, userId: u.id, role: 'owner' });
  const { tenant_key } = await control<{ tenant_key: string }>(simUrl, 'POST', '/tenants', { brand: 'feishu', name: 'Bench' });
  const rows = [];
  for (let i = 0; i < count; i++) {
    const app = await control<{ app_id: string; app_secret: string }>(simUrl, 'POST', '/apps', { tenant_key, name: `Bot ${i}` });
    const [a] = await db.insert(agent).values({ workspaceId: ws.id, ownerUserId: u.id, name: `Agent ${i}`, avatarColor: '#336699', runtimeKind: 'echo' }).returning();
    // With its union_id known, as after a normal install: the worker's start-up backfill leaves it alone.
    rows.push({ workspaceId: ws.id, agentId: a.id, appId: app.app_id, appSecretCiphertext: box.seal(app.app_secret), botOpenId: `ou_${i}`, botUnionId: `on_${i}`, installerUserId: u.id });
  }
  for (let i = 0; i < rows.length; i += 200) await db.insert(larkInstallation).values(rows.slice(i, i + 200));
}

/**
 * Open connections per app, as the simulator counts them. Costly in the simulator (it counts each
 * app's connections among all of them), which shares this process: only to confirm what the worker
 * reported, never in a tight loop.
 */
async function connectionsPerApp(simUrl: string): Promise<number[]> {
  const state = await control<{ apps: Array<{ connections: number }> }>(simUrl, 'GET', '/state');
  return state.apps.map((a) => a.connections);
}

/** Connections the worker's hub has open, from its /metrics (cheap: counted in memory at scrape time). */
async function workerConnected(opsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
  return Number(/^larkspur_lark_connections\{state="connected"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

/** Polls the worker until it reports every connection open, then the simulator until it agrees. */
async function waitAllConnected(opsPort: number, simUrl: string, timeoutMs: number): Promise<{ ok: boolean; reportedAt: number; maxPerApp: number }> {
  const deadline = Date.now() + timeoutMs;
  const reported = await waitUntil(async () => (await workerConnected(opsPort)) >= INSTALLATIONS, timeoutMs, 200);
  const reportedAt = Date.now();
  let maxPerApp = 0;
  const confirmed =
    reported &&
    (await waitUntil(
      async () => {
        const perApp = await connectionsPerApp(simUrl);
        maxPerApp = Math.max(maxPerApp, ...perApp);
        return perApp.filter((n) => n >= 1).length >= INSTALLATIONS;
      },
      Math.max(0, deadline - Date.now()),
      250,
    ));
  return { ok: confirmed, reportedAt, maxPerApp };
}

async function rssKiB(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
}

async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number, intervalMs = 200) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond().catch(() => false)) return true;
    await sleep(intervalMs);
  }
  return false;
}

/** A DevTools protocol session with a worker started with --inspect: runs gc() and reads its heap. */
class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, (result: unknown) => void>();
  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown };
      if (msg.id !== undefined) this.pending.get(msg.id)?.(msg.result);
    });
  }

  static async open(port: number): Promise<Inspector> {
    const [target] = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
    const socket = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    return new Inspector(socket);
  }

  private call(method: string, params: unknown): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Full collections (twice: the first may leave finalizable garbage), then process.memoryUsage(). */
  async gcAndMeasure(): Promise<{ heapUsed: number; external: number; arrayBuffers: number }> {
    const expression = 'globalThis.gc(); globalThis.gc(); JSON.stringify(process.memoryUsage())';
    const res = (await this.call('Runtime.evaluate', { expression, returnByValue: true })) as { result: { value: string } };
    return JSON.parse(res.result.value) as { heapUsed: number; external: number; arrayBuffers: number };
  }

  close() {
    this.socket.close();
  }
}

type Worker = { nodeId: string; child: ChildProcess; pid: number; opsPort: number; inspectPort: number | null; logPath: string; exited: Promise<void> };

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'larkspur-bench-hub-'));
await fs.chmod(dir, 0o777);
const workers: Worker[] = [];
// No worker may outlive the run, even when it is interrupted.
process.on('exit', () => {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), persistent: false });
await ensureDatabase(pg.url('postgres'), 'bench');
const url = pg.url('bench');
await applyMigrations(url);
const pool = createPool(url, 10);
const listener = new PgListener({ connectionString: url, logger: pino({ level: 'silent' }) });
const db = createDb(pool);
const sim = await startSimulator({ port: 0, maxConnectionsPerApp: 5, rateLimitPerSecond: 100_000, rateLimitPerMinute: 1_000_000 });

const workerEnv: Record<string, string | undefined> = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  DATABASE_URL: url,
  LARK_SECRET_KEY: key.toString('base64'),
  LARK_OPEN_BASE_URL: `${sim.url}/{region}`,
  LARK_ACCOUNTS_BASE_URL: `${sim.url}/{region}`,
  WORKER_HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  BETTER_AUTH_SECRET: 'bench-secret-bench-secret-bench-secret-00',
};

/** `npm run worker` as in production, at the product defaults; with `inspect`, also --expose-gc and a DevTools port. */
async function spawnWorker(nodeId: string, opts: { inspect: boolean }): Promise<Worker> {
  const opsPort = await freePort();
  const inspectPort = opts.inspect ? await freePort() : null;
  const args = ['--conditions=react-server', '--import', 'tsx', 'worker/main.ts'];
  if (inspectPort !== null) args.unshift('--expose-gc', `--inspect=127.0.0.1:${inspectPort}`);
  const logPath = path.join(dir, `${nodeId}.log`);
  const log = await fs.open(logPath, 'a');
  const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...workerEnv, NODE_ID: nodeId, WORKER_PORT: String(opsPort) } as Record<string, string | undefined> as NodeJS.ProcessEnv, stdio: ['ignore', log.fd, log.fd] });
  await new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  await log.close();
  const worker: Worker = { nodeId, child, pid: child.pid!, opsPort, inspectPort, logPath, exited: new Promise((r) => child.once('exit', () => r())) };
  workers.push(worker);
  const ready = await waitUntil(async () => (await fetch(`http://127.0.0.1:${opsPort}/readyz`)).ok, 90_000, 250);
  if (!ready) throw new Error(`worker ${nodeId} was not ready within 90 s:\n${(await fs.readFile(logPath, 'utf8')).slice(-3000)}`);
  return worker;
}

async function setActive(active: boolean) {
  await pool.query(`UPDATE lark_installation SET status = $1, ws_lease_token = NULL, ws_lease_expires_at = NULL`, [active ? 'active' : 'revoked']);
  await pool.query(`SELECT pg_notify($1, 'bench')`, [LARK_INSTALLATION_CHANNEL]);
}

try {
  console.log(`machine: ${os.cpus().length} cores, load average ${loadAverage()} (1 / 5 / 15 min) at the start`);
  console.log(
    `product defaults: lease TTL ${seconds(defaults.LARK_LEASE_TTL_MS)}, renewal every ${seconds(defaults.LARK_LEASE_RENEW_MS)}, ` +
      `hub sweep every ${seconds(defaults.LARK_HUB_SWEEP_MS)}; node heartbeat every ${seconds(NODE_HEARTBEAT_MS)}, ` +
      `fenced after ${seconds(NODE_FENCE_AFTER_MS)} without one, stale (taken over) after ${seconds(NODE_STALE_AFTER_MS)}`,
  );
  console.log(`seeding ${INSTALLATIONS} installations…`);
  await seed(db, sim.url, INSTALLATIONS);

  // 1. Statements per renewal tick, in-process, at growing sizes.
  console.log('\nstatements per renewal tick (in-process hub, counted at the driver):');
  let worstStatements = 0;
  for (const size of [...new Set([10, 100, INSTALLATIONS])].filter((n) => n <= INSTALLATIONS)) {
    await setActive(false);
    const ids = (await db.select({ id: larkInstallation.id }).from(larkInstallation).limit(size)).map((r) => r.id);
    await pool.query(`UPDATE lark_installation SET status = 'active' WHERE id = ANY($1::uuid[])`, [ids]);
    let statements = 0;
    const counting = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop === 'execute') return (...args: unknown[]) => ((statements += 1), (target.execute as (...a: unknown[]) => unknown).apply(target, args));
        return Reflect.get(target, prop, receiver);
      },
    }) as Db;
    const hub = new LarkHub({
      db: counting,
      listener,
      nodeId: `bench-${size}`,
      integration: { configured: true, box, hosts: { openBaseUrl: `${sim.url}/{region}` }, httpTimeoutMs: 10_000 },
      logger: pino({ level: 'silent' }),
      // Ticks are driven by hand below: the loop's own timers stay out of the count.
      config: { leaseTtlMs: 60_000, leaseRenewMs: 600_000, sweepMs: 600_000, backoffMinMs: 500, backoffMaxMs: 5000, backoffResetAfterMs: 60_000, leaseReleaseTimeoutMs: 5000, shutdownTimeoutMs: 10_000 },
      route: async () => 'ok',
      connect: (_input, signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve({ reason: 'aborted' } as never), { once: true })),
    });
    const stop = new AbortController();
    const done = hub.run(stop.signal);
    await waitUntil(async () => hub.heldInstallations().length === size, 60_000);
    const ticks = 5;
    statements = 0;
    const started = performance.now();
    for (let i = 0; i < ticks; i++) await hub.renew();
    const ms = (performance.now() - started) / ticks;
    const perTick = statements / ticks;
    worstStatements = Math.max(worstStatements, perTick);
    console.log(`  ${String(size).padStart(5)} installations: ${perTick} statement(s) per tick, ${ms.toFixed(1)} ms per tick (load ${loadAverage()})`);
    stop.abort();
    await done;
  }

  // 2. A real worker process: memory per held connection, against itself holding none.
  await setActive(false);
  const a = await spawnWorker('bench-a', { inspect: true });
  const inspector = await Inspector.open(a.inspectPort!);
  await sleep(SETTLE_MS);
  const idleHeap = await inspector.gcAndMeasure();
  await sleep(1000);
  const idleRss = await rssKiB(a.pid);
  const connectStarted = Date.now();
  await setActive(true);
  const { ok: allUp } = await waitAllConnected(a.opsPort, sim.url, 180_000);
  const connectMs = Date.now() - connectStarted;
  const connectLoad = loadAverage();
  await sleep(SETTLE_MS);
  const heldHeap = await inspector.gcAndMeasure();
  await sleep(1000);
  const heldRss = await rssKiB(a.pid);
  const stillOpen = (await connectionsPerApp(sim.url)).filter((n) => n >= 1).length;
  inspector.close();
  const rssPer = (heldRss - idleRss) / INSTALLATIONS;
  const heapPer = (heldHeap.heapUsed - idleHeap.heapUsed) / 1024 / INSTALLATIONS;
  const externalPer = (heldHeap.external - idleHeap.external) / 1024 / INSTALLATIONS;
  console.log(`\nworker A (cold start, installations activated at once): ${allUp ? 'all' : 'NOT all'} ${INSTALLATIONS} connections open ${seconds(connectMs)} after activation (load ${connectLoad})`);
  console.log(
    `  RSS ${(idleRss / 1024).toFixed(0)} MiB holding none, ${(heldRss / 1024).toFixed(0)} MiB holding ${stillOpen} open connections ${seconds(SETTLE_MS)} later, after a full GC; ` +
      `heap used ${(idleHeap.heapUsed / 2 ** 20).toFixed(1)} → ${(heldHeap.heapUsed / 2 ** 20).toFixed(1)} MiB, external ${(idleHeap.external / 2 ** 20).toFixed(1)} → ${(heldHeap.external / 2 ** 20).toFixed(1)} MiB`,
  );
  console.log(
    `  memory per held connection: ${rssPer.toFixed(1)} KiB RSS (heap ${heapPer.toFixed(1)} KiB, external ${externalPer.toFixed(1)} KiB), goal ≤ ${GOAL_KIB_PER_CONNECTION} KiB RSS: ` +
      `${verdict(allUp && stillOpen === INSTALLATIONS && rssPer <= GOAL_KIB_PER_CONNECTION)} (load ${loadAverage()})`,
  );

  // 3. Takeover after SIGKILL, at the product defaults: B runs, A holds every bot, A is killed.
  const b = await spawnWorker('bench-b', { inspect: false });
  await sleep(SETTLE_MS);
  const heldByA = Number((await pool.query(`SELECT count(*)::int AS n FROM lark_installation WHERE starts_with(ws_lease_token, 'bench-a-g')`)).rows[0].n);
  const killLoad = loadAverage();
  const cpuBefore = await processCpuSeconds(b.pid);
  a.child.kill('SIGKILL');
  const killedAt = Date.now();
  const leasesHeld = await waitUntil(async () => {
    const res = await pool.query(`SELECT count(*)::int AS n FROM lark_installation WHERE starts_with(ws_lease_token, 'bench-b-g') AND status = 'active'`);
    return res.rows[0].n >= INSTALLATIONS;
  }, 180_000, 100);
  const leasesAt = leasesHeld ? Date.now() : null;
  const { ok: taken, reportedAt, maxPerApp } = await waitAllConnected(b.opsPort, sim.url, 180_000);
  const takeoverMs = Date.now() - killedAt;
  const cpuAfter = await processCpuSeconds(b.pid);
  const cpuUsed = cpuBefore !== null && cpuAfter !== null ? `, using ${(cpuAfter - cpuBefore).toFixed(1)} s of CPU` : '';
  console.log(`\ntakeover: worker A held ${heldByA} of ${INSTALLATIONS} bots and was killed with SIGKILL (load ${killLoad})`);
  console.log(
    `  worker B held every lease after ${leasesAt === null ? 'never' : seconds(leasesAt - killedAt)}, reported all ${INSTALLATIONS} connected after ${seconds(reportedAt - killedAt)}, ` +
      `the simulator ${taken ? 'confirmed' : 'did NOT confirm'} it after ${seconds(takeoverMs)}${cpuUsed} (at most ${maxPerApp} connection(s) per bot seen)`,
  );
  console.log(`  takeover of ${INSTALLATIONS} bots: ${seconds(takeoverMs)}, goal ≤ ${seconds(GOAL_TAKEOVER_MS)}: ${verdict(taken && takeoverMs <= GOAL_TAKEOVER_MS)} (load ${loadAverage()})`);
  b.child.kill('SIGTERM');
  await Promise.race([b.exited, sleep(20_000)]);

  for (const w of workers) console.log(`worker ${w.nodeId} logged: ${await logSummary(w)}`);

  console.log('\ngoals:');
  console.log(`  statements per renewal tick: ${worstStatements} (goal ${GOAL_STATEMENTS_PER_TICK}) ${verdict(worstStatements <= GOAL_STATEMENTS_PER_TICK)}`);
  console.log(`  memory per held connection: ${rssPer.toFixed(1)} KiB RSS (goal ≤ ${GOAL_KIB_PER_CONNECTION} KiB) ${verdict(allUp && stillOpen === INSTALLATIONS && rssPer <= GOAL_KIB_PER_CONNECTION)}`);
  console.log(`  takeover after SIGKILL: ${seconds(takeoverMs)} (goal ≤ ${seconds(GOAL_TAKEOVER_MS)}) ${verdict(taken && takeoverMs <= GOAL_TAKEOVER_MS)}`);
  console.log(`  load average at the end: ${loadAverage()}`);
} finally {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await sim.close();
  await listener.close();
  await pool.end();
  await pg.stop();
}
