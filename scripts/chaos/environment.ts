// One scenario's world: a fresh database, a simulator process, bots whose agents use the echo
// runtime, each with one bound Lark user and its DM chat, and real worker processes at product
// defaults. Everything started here is stopped by `close`, and killed outright if this process exits.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createDb } from '../../server/db/client';
import { agent, larkInstallation, larkUserBinding, member, user, workspace } from '../../server/db/schema';
import { SecretBox } from '../../server/crypto/secretbox';
import { parseEnv, type Env } from '../../server/env';
import { freePort } from '../free-port';
import { isRunning, logSummary, startWorkerProcess, stopWorkerProcess, type WorkerProcess } from '../worker-process';
import { createProbe, createScenarioDatabase, type DatabaseServer, type Probe } from './database';
import { startSimulatorProcess, type SimulatorProcess } from './simulator';
import { waitUntil } from './timing';

export type Bot = { index: number; appId: string; userId: string; chatId: string };

export type ChaosWorker = {
  label: string;
  nodeId: string;
  opsPort: number;
  spawnedAt: number;
  proc: WorkerProcess;
  /** Set before we stop or kill it: an exit without it is a crash. */
  stopRequested: boolean;
  crash: { at: number; how: string; tail: string } | null;
};

/** Worker connections are told apart from the suite's own by this application_name (pg-boss and the listener set their own). */
export const WORKER_APP_NAME = 'larkspur-worker';

// Whatever runs at exit must not leave a worker or a simulator behind, whatever ended the run.
const liveChildren = new Set<{ kill: (signal: NodeJS.Signals) => boolean; exitCode: number | null; signalCode: NodeJS.Signals | null }>();
process.on('exit', () => {
  for (const child of liveChildren) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export type EnvironmentOptions = {
  server: DatabaseServer;
  label: string;
  bots: number;
  dir: string;
  log: (line: string) => void;
};

/** The last error a worker logged (pino level >= 50), else the runtime's own error line: what a crash note shows. */
async function lastError(logPath: string): Promise<string> {
  const lines = (await fs.readFile(logPath, 'utf8').catch(() => '')).trimEnd().split('\n');
  let runtimeError = '';
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const entry = JSON.parse(lines[i]) as { level?: number; msg?: string; err?: { message?: string; code?: string } };
      if ((entry.level ?? 0) < 50) continue;
      const err = entry.err ? `: ${entry.err.message ?? ''}${entry.err.code ? ` (${entry.err.code})` : ''}` : '';
      return `${entry.msg ?? ''}${err}`.slice(0, 300);
    } catch {
      // Not pino: an uncaught error's stack trace, printed by the runtime.
      if (!runtimeError && /^\w*(Error|Exception)\b/.test(lines[i].trim())) runtimeError = lines[i].trim().slice(0, 300);
    }
  }
  return runtimeError;
}

export class ChaosEnvironment {
  readonly workers: ChaosWorker[] = [];
  bots: Bot[] = [];
  workerConfig: Env | null = null;
  private readonly key = randomBytes(32);

  private constructor(
    readonly options: EnvironmentOptions,
    readonly dbUrl: string,
    readonly dbName: string,
    private readonly dropDatabase: () => Promise<void>,
    readonly probe: Probe,
    readonly sim: SimulatorProcess,
  ) {}

  static async create(options: EnvironmentOptions): Promise<ChaosEnvironment> {
    await fs.mkdir(options.dir, { recursive: true });
    const database = await createScenarioDatabase(options.server, options.label);
    const probe = createProbe(database.url);
    let sim: SimulatorProcess | null = null;
    try {
      sim = await startSimulatorProcess(path.join(options.dir, 'simulator.log'));
      liveChildren.add(sim.child);
      const env = new ChaosEnvironment(options, database.url, database.name, database.drop, probe, sim);
      await env.seed();
      return env;
    } catch (err) {
      await sim?.stop();
      await probe.end();
      await database.drop().catch(() => {});
      throw err;
    }
  }

  get server(): DatabaseServer {
    return this.options.server;
  }

  private async seed(): Promise<void> {
    const db = createDb(this.probe.pool);
    const box = new SecretBox(this.key);
    const control = this.sim.control;
    const stamp = randomBytes(4).toString('hex');
    const [owner] = await db.insert(user).values({ id: randomBytes(8).toString('hex'), name: 'Chaos', email: `chaos-${stamp}@example.com` }).returning();
    const [ws] = await db.insert(workspace).values({ name: 'Chaos', slug: `chaos-${stamp}`, issuePrefix: 'CHA' }).returning();
    await db.insert(member).values({ workspaceId: ws.id, userId: owner.id, role: 'owner' });
    const { tenant_key } = await control.createTenant('Chaos');
    for (let i = 0; i < this.options.bots; i++) {
      const app = await control.createApp(tenant_key, `Chaos bot ${i}`);
      const info = await control.app(app.app_id);
      const larkUser = await control.createUser(tenant_key, `Chaos user ${i}`);
      const openId = await control.openId(app.app_id, larkUser.id);
      const [a] = await db
        .insert(agent)
        .values({ workspaceId: ws.id, ownerUserId: owner.id, name: `Chaos agent ${i}`, avatarColor: '#336699', runtimeKind: 'echo' })
        .returning();
      const [installation] = await db
        .insert(larkInstallation)
        .values({
          workspaceId: ws.id,
          agentId: a.id,
          appId: app.app_id,
          appSecretCiphertext: box.seal(app.app_secret),
          tenantKey: tenant_key,
          botOpenId: info.bot_open_id,
          botUnionId: info.bot_union_id,
          installerUserId: owner.id,
        })
        .returning();
      await db.insert(larkUserBinding).values({ workspaceId: ws.id, installationId: installation.id, userId: owner.id, larkOpenId: openId });
      this.bots.push({ index: i, appId: app.app_id, userId: larkUser.id, chatId: await control.p2pChat(app.app_id, larkUser.id) });
    }
  }

  /** The worker's environment: product defaults for everything but where things are. */
  private workerEnv(nodeId: string, opsPort: number): Record<string, string | undefined> {
    const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];
    return {
      ...Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]])),
      DATABASE_URL: this.dbUrl,
      LARK_SECRET_KEY: this.key.toString('base64'),
      LARK_OPEN_BASE_URL: `${this.sim.url}/{region}`,
      LARK_ACCOUNTS_BASE_URL: `${this.sim.url}/{region}`,
      APP_URL: 'http://127.0.0.1:3000',
      WORKER_PORT: String(opsPort),
      WORKER_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      BETTER_AUTH_SECRET: randomBytes(24).toString('hex'),
      NODE_ID: nodeId,
      // node-postgres names the worker's pool connections by this.
      PGAPPNAME: WORKER_APP_NAME,
    };
  }

  /** Spawns the workers at the same moment (the race scenario depends on it). */
  async startWorkers(labels: string[]): Promise<ChaosWorker[]> {
    const prepared = await Promise.all(
      labels.map(async (label) => {
        const nodeId = `chaos-${label}`;
        const opsPort = await freePort();
        return { label, nodeId, opsPort, env: this.workerEnv(nodeId, opsPort) };
      }),
    );
    this.workerConfig ??= parseEnv(prepared[0].env);
    const started = await Promise.all(
      prepared.map(async ({ label, nodeId, opsPort, env }) => {
        const proc = await startWorkerProcess(env, path.join(this.options.dir, `worker-${label}.log`));
        liveChildren.add(proc.child);
        const worker: ChaosWorker = { label, nodeId, opsPort, spawnedAt: Date.now(), proc, stopRequested: false, crash: null };
        proc.child.once('exit', (code, signal) => {
          if (worker.stopRequested) return;
          const crash = { at: Date.now(), how: signal ? `signal ${signal}` : `exit code ${code}`, tail: '' };
          worker.crash = crash;
          this.options.log(`worker ${label} exited on its own (${signal ?? code})`);
          void lastError(proc.logPath).then((line) => (crash.tail = line));
        });
        return worker;
      }),
    );
    this.workers.push(...started);
    return started;
  }

  /** Open WebSocket connections per bot, as the simulator counts them. */
  async connections(): Promise<number[]> {
    return Promise.all(this.bots.map(async (b) => (await this.sim.control.app(b.appId)).connections));
  }

  async waitConnected(timeoutMs: number): Promise<boolean> {
    return waitUntil(async () => (await this.connections()).every((n) => n >= 1), timeoutMs, 250);
  }

  /** Leases held per worker node id, read from the database. */
  async leasesByWorker(): Promise<Map<string, number>> {
    const rows = await this.probe.query<{ token: string | null }>(`SELECT ws_lease_token AS token FROM lark_installation WHERE status = 'active'`);
    const held = new Map<string, number>();
    // A lease token starts with the holder's node id (the labels never prefix one another).
    for (const w of this.workers) held.set(w.nodeId, rows.filter((r) => r.token?.startsWith(w.nodeId)).length);
    return held;
  }

  async ready(worker: ChaosWorker): Promise<boolean> {
    try {
      const res = await fetch(`http://127.0.0.1:${worker.opsPort}/readyz`, { signal: AbortSignal.timeout(2000) });
      return res.ok;
    } catch {
      return false;
    }
  }

  kill(worker: ChaosWorker): void {
    worker.stopRequested = true;
    worker.proc.child.kill('SIGKILL');
  }

  crashed(): ChaosWorker[] {
    return this.workers.filter((w) => w.crash !== null);
  }

  /** Stops the workers (SIGTERM within their deadline), the simulator and the probe, then drops the database. Returns what went wrong. */
  async close(keepLogsIn?: string): Promise<string[]> {
    const notes: string[] = [];
    await Promise.all(
      this.workers.map(async (w) => {
        if (!isRunning(w.proc)) return;
        w.stopRequested = true;
        const how = await stopWorkerProcess(w.proc, 25_000);
        if (!/^stopped .* \(exit code 0\)$/.test(how)) notes.push(`worker ${w.label} ${how}`);
      }),
    );
    for (const w of this.workers) {
      const summary = await logSummary(w.proc);
      if (summary !== 'no warnings or errors') notes.push(`worker ${w.label} log: ${summary.length > 600 ? `${summary.slice(0, 600)}…` : summary}`);
    }
    await this.sim.stop();
    await this.probe.end();
    await this.dropDatabase().catch((err: Error) => notes.push(`could not drop ${this.dbName}: ${err.message}`));
    if (keepLogsIn) {
      const target = path.join(keepLogsIn, this.options.label);
      await fs.mkdir(target, { recursive: true });
      for (const file of await fs.readdir(this.options.dir)) await fs.copyFile(path.join(this.options.dir, file), path.join(target, file));
    }
    await fs.rm(this.options.dir, { recursive: true, force: true });
    return notes;
  }
}
