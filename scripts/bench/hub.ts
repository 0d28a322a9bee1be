// `npm run bench:hub`: one worker holding many Lark installations against the simulator.
// Prints statements per renewal tick at growing sizes, memory per held connection, and how long a
// second worker takes to own every connection after the first is killed with SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createDb, createPool, type Db } from '../../server/db/client';
import { PgListener } from '../../server/db/listen';
import { applyMigrations } from '../../server/db/migrate';
import { agent, larkInstallation, member, user, workspace } from '../../server/db/schema';
import { SecretBox } from '../../server/crypto/secretbox';
import { startSimulator } from '../../simulator/server';
import { LarkHub } from '../../server/lark/hub/hub';
import { ensureDatabase, startEmbeddedPostgres } from '../embedded-postgres';

const INSTALLATIONS = Number(process.env.BENCH_INSTALLATIONS ?? 1000);
const key = randomBytes(32);
const box = new SecretBox(key);

async function control(base: string, method: string, p: string, body?: unknown) {
  const res = await fetch(`${base}/_control${p}`, { method, headers: { 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

async function seed(db: Db, simUrl: string, count: number) {
  const [u] = await db.insert(user).values({ id: randomBytes(8).toString('hex'), name: 'Bench', email: `bench-${Date.now()}@example.com` }).returning();
  const [ws] = await db.insert(workspace).values({ name: 'Bench', slug: `bench-${Date.now()}`, issuePrefix: 'BEN' }).returning();
  await db.insert(member).values({ workspaceId: ws.id, userId: u.id, role: 'owner' });
  const { tenant_key } = (await control(simUrl, 'POST', '/tenants', { brand: 'feishu', name: 'Bench' })) as { tenant_key: string };
  const rows = [];
  for (let i = 0; i < count; i++) {
    const app = (await control(simUrl, 'POST', '/apps', { tenant_key, name: `Bot ${i}` })) as { app_id: string; app_secret: string };
    const [a] = await db.insert(agent).values({ workspaceId: ws.id, ownerUserId: u.id, name: `Agent ${i}`, avatarColor: '#336699', runtimeKind: 'echo' }).returning();
    rows.push({ workspaceId: ws.id, agentId: a.id, appId: app.app_id, appSecretCiphertext: box.seal(app.app_secret), botOpenId: `ou_${i}`, installerUserId: u.id });
  }
  for (let i = 0; i < rows.length; i += 200) await db.insert(larkInstallation).values(rows.slice(i, i + 200));
}

async function totalConnections(simUrl: string, appIds: string[]) {
  let total = 0;
  for (const id of appIds) total += ((await control(simUrl, 'GET', `/apps/${id}`)) as { connections: number }).connections;
  return total;
}

function rssKb(pid: number): Promise<number> {
  return fs.readFile(`/proc/${pid}/status`, 'utf8').then((s) => Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0));
}

async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'larkspur-bench-hub-'));
await fs.chmod(dir, 0o777);
const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), persistent: false });
await ensureDatabase(pg.url('postgres'), 'bench');
const url = pg.url('bench');
await applyMigrations(url);
const pool = createPool(url, 10);
const listener = new PgListener({ connectionString: url, logger: pino({ level: 'silent' }) });
const db = createDb(pool);
const sim = await startSimulator({ port: 0, maxConnectionsPerApp: 5, rateLimitPerSecond: 100_000, rateLimitPerMinute: 1_000_000 });
const children: ChildProcess[] = [];

try {
  console.log(`seeding ${INSTALLATIONS} installations…`);
  await seed(db, sim.url, INSTALLATIONS);
  const appIds = (await db.select({ appId: larkInstallation.appId }).from(larkInstallation)).map((r) => r.appId);

  // 1. Statements per renewal tick, in-process, at growing sizes.
  console.log('\nstatements per renewal tick (in-process hub, counted at the driver):');
  for (const size of [...new Set([10, 100, INSTALLATIONS])].filter((n) => n <= INSTALLATIONS)) {
    await db.update(larkInstallation).set({ status: 'revoked', wsLeaseToken: null, wsLeaseExpiresAt: null });
    const ids = (await db.select({ id: larkInstallation.id }).from(larkInstallation).limit(size)).map((r) => r.id);
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      await pool.query(`UPDATE lark_installation SET status = 'active' WHERE id = ANY($1::uuid[])`, [chunk]);
    }
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
    console.log(`  ${String(size).padStart(5)} installations: ${statements / ticks} statement(s) per tick, ${ms.toFixed(1)} ms per tick`);
    stop.abort();
    await done;
  }
  await db.update(larkInstallation).set({ status: 'active', wsLeaseToken: null, wsLeaseExpiresAt: null });

  // 2. A real worker process holding every connection: memory per held connection.
  const workerEnv = {
    ...process.env,
    DATABASE_URL: url,
    LARK_SECRET_KEY: key.toString('base64'),
    LARK_OPEN_BASE_URL: `${sim.url}/{region}`,
    LARK_ACCOUNTS_BASE_URL: `${sim.url}/{region}`,
    LARK_LEASE_TTL_MS: '5000',
    LARK_LEASE_RENEW_MS: '1000',
    LARK_HUB_SWEEP_MS: '500',
    // Two workers run side by side during the takeover: each gets a free ops port.
    WORKER_PORT: '0',
    WORKER_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    BETTER_AUTH_SECRET: 'bench-secret-bench-secret-bench-secret-00',
  };
  const spawnWorker = (nodeId: string) => {
    const child = spawn(process.execPath, ['--conditions=react-server', '--import', 'tsx', 'worker/main.ts'], { env: { ...workerEnv, NODE_ID: nodeId }, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(child);
    return child;
  };
  const a = spawnWorker('bench-a');
  await new Promise((r) => setTimeout(r, 3000));
  const idleRss = await rssKb(a.pid!);
  const connectStarted = Date.now();
  const allUp = await waitUntil(async () => (await totalConnections(sim.url, appIds)) >= INSTALLATIONS, 180_000);
  const connectMs = Date.now() - connectStarted;
  await new Promise((r) => setTimeout(r, 2000));
  const heldRss = await rssKb(a.pid!);
  console.log(`\nworker A: ${allUp ? 'all' : 'NOT all'} ${INSTALLATIONS} connections open after ${(connectMs / 1000).toFixed(1)} s`);
  console.log(`  RSS ${Math.round(idleRss / 1024)} MiB at start, ${Math.round(heldRss / 1024)} MiB holding ${INSTALLATIONS}: ${((heldRss - idleRss) / INSTALLATIONS).toFixed(1)} KiB per held connection`);

  // 3. Takeover after SIGKILL (leases must expire: TTL 5 s).
  const b = spawnWorker('bench-b');
  await new Promise((r) => setTimeout(r, 3000));
  a.kill('SIGKILL');
  const killedAt = Date.now();
  const taken = await waitUntil(async () => {
    const res = await pool.query(`SELECT count(*)::int AS n FROM lark_installation WHERE ws_lease_token LIKE 'bench-b-%' AND status = 'active'`);
    return res.rows[0].n >= INSTALLATIONS && (await totalConnections(sim.url, appIds)) >= INSTALLATIONS;
  }, 180_000);
  console.log(`\ntakeover: worker B ${taken ? 'owns and has reconnected all' : 'did NOT take over all'} ${INSTALLATIONS} installations ${((Date.now() - killedAt) / 1000).toFixed(1)} s after worker A was killed (lease TTL 5 s)`);
  b.kill('SIGTERM');
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await sim.close();
  await listener.close();
  await pool.end();
  await pg.stop();
  await fs.rm(dir, { recursive: true, force: true });
}
