import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from './free-port';
import { buildIfNeeded } from './launcher';

// `npm start` and `npm run demo` are stopped the way a process manager or `kill` stops them: one
// signal to the npm process alone, not to its process group. Everything they started (the script,
// web, worker, PostgreSQL and its backends, tsx's esbuild) must be gone afterwards, ports closed.

const root = path.resolve(import.meta.dirname, '..');
const readyTimeoutMs = 120_000;

type Proc = { pid: number; ppid: number; startTime: string; state: string; cmd: string };

/** Every process on the machine, from /proc (Linux). */
function processTable(): Map<number, Proc> {
  const table = new Map<number, Proc>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      table.set(Number(entry), { pid: Number(entry), state: rest[0], ppid: Number(rest[1]), startTime: rest[19], cmd });
    } catch {
      // Gone while reading.
    }
  }
  return table;
}

function descendantsOf(rootPid: number, table = processTable()): Proc[] {
  const found: Proc[] = [];
  const queue = [rootPid];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const p of table.values()) {
      if (p.ppid === parent) {
        found.push(p);
        queue.push(p.pid);
      }
    }
  }
  return found;
}

/** The same process (pid and start time), not a later one that got its pid, and not a zombie. */
function stillRunning(p: Proc, table = processTable()): boolean {
  const now = table.get(p.pid);
  return Boolean(now && now.startTime === p.startTime && now.state !== 'Z');
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function ok(url: string): Promise<boolean> {
  return fetch(url).then((res) => res.ok, () => false);
}

/** A run of one npm script, with every process it ever had recorded while it runs. */
class NpmRun {
  readonly child: ChildProcess;
  readonly seen = new Map<string, Proc>();
  output = '';
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private watching = true;

  constructor(script: string[], env: Record<string, string>) {
    // A plain environment: nothing of Vitest's (NODE_ENV=test, a test DATABASE_URL) leaks in.
    const base = Object.fromEntries(['PATH', 'HOME', 'LANG', 'TMPDIR'].filter((k) => process.env[k]).map((k) => [k, process.env[k] as string]));
    const childEnv: Record<string, string> = { ...base, NEXT_TELEMETRY_DISABLED: '1', ...env };
    this.child = spawn('npm', script, { cwd: root, env: childEnv as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    void this.watch();
  }

  private async watch() {
    while (this.watching) {
      this.record();
      await sleep(200);
    }
  }

  /**
   * Keyed by pid and start time, and refreshed on every sighting: a process first seen between its
   * fork and its exec still shows its parent's command line.
   */
  record() {
    for (const p of descendantsOf(this.child.pid!)) this.seen.set(`${p.pid}:${p.startTime}`, p);
  }

  async waitFor(what: string, ready: () => Promise<boolean>) {
    const deadline = Date.now() + readyTimeoutMs;
    while (!(await ready())) {
      if (this.child.exitCode !== null) throw new Error(`npm exited (${this.child.exitCode}) before ${what}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within ${readyTimeoutMs / 1000} s:\n${this.output}`);
      await sleep(250);
    }
  }

  /** Sends the signal to npm's pid only, and waits for npm to exit. */
  async stop(signal: NodeJS.Signals, timeoutMs = 45_000) {
    this.record();
    this.watching = false;
    process.kill(this.child.pid!, signal);
    const timer = sleep(timeoutMs).then(() => 'timeout' as const);
    return Promise.race([this.exited, timer]);
  }

  /** What is still running of everything the run ever started (npm included). */
  async leftovers(graceMs = 5_000): Promise<Proc[]> {
    const all = [...this.seen.values()];
    const deadline = Date.now() + graceMs;
    for (;;) {
      const table = processTable();
      const alive = all.filter((p) => stillRunning(p, table));
      if (alive.length === 0 || Date.now() > deadline) return alive;
      await sleep(100);
    }
  }

  /** Cleans up after a failed assertion: only processes this run started, by pid. */
  kill() {
    this.watching = false;
    const table = processTable();
    for (const p of this.seen.values()) if (stillRunning(p, table)) process.kill(p.pid, 'SIGKILL');
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

describe.skipIf(process.platform !== 'linux')('stopping npm start and npm run demo with a signal to npm', () => {
  let run: NpmRun | undefined;
  const dirs: string[] = [];

  beforeAll(async () => {
    // Both scripts build the app when it is stale; `npm test` has built it before this runs.
    await buildIfNeeded((line) => console.log(line));
  }, 900_000);

  afterEach(async () => {
    run?.kill();
    run = undefined;
    for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
  });

  async function dataDir(): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'larkspur-stop-'));
    // PostgreSQL runs as its own user when the tests run as root, and must reach its data dir.
    await fs.chmod(dir, 0o755);
    dirs.push(dir);
    return dir;
  }

  async function expectAllStopped(r: NpmRun, ports: number[], result: Awaited<ReturnType<NpmRun['stop']>>) {
    expect(result, r.output).not.toBe('timeout');
    expect(result, r.output).toEqual({ code: 0, signal: null });
    const alive = await r.leftovers();
    expect(alive.map((p) => `${p.pid} ${p.cmd}`), r.output).toEqual([]);
    for (const port of ports) expect(await portOpen(port), `port ${port}`).toBe(false);
  }

  /** The recorded tree holds what a leak would be made of, so "nothing left" means something. */
  function expectWholeTree(r: NpmRun) {
    r.record();
    const commands = [...r.seen.values()].map((p) => p.cmd);
    for (const part of ['web-server.mjs', 'worker/main.ts', 'postgres']) expect(commands.some((c) => c.includes(part)), `${part} in:\n${commands.join('\n')}`).toBe(true);
  }

  function postgresPort(pgDir: string): number {
    return Number(readFileSync(path.join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[3]);
  }

  test('npm run demo stops on SIGTERM', async () => {
    const dir = await dataDir();
    const [port, workerPort, simPort] = [await freePort(), await freePort(), await freePort()];
    run = new NpmRun(['run', 'demo'], {
      LARKSPUR_DATA_DIR: dir,
      PORT: String(port),
      WORKER_PORT: String(workerPort),
      SIM_PORT: String(simPort),
    });
    const r = run;
    await r.waitFor('the walkthrough', async () => r.output.includes('Larkspur demo is running'));
    await r.waitFor('a ready worker', () => ok(`http://127.0.0.1:${workerPort}/readyz`));
    const ports = [port, workerPort, simPort, postgresPort(path.join(dir, 'demo', 'pg'))];
    for (const p of ports) expect(await portOpen(p), `port ${p}`).toBe(true);
    expectWholeTree(r);

    await expectAllStopped(r, ports, await r.stop('SIGTERM'));
  }, 180_000);

  test('npm start stops on SIGINT', async () => {
    const dir = await dataDir();
    const [port, workerPort] = [await freePort(), await freePort()];
    run = new NpmRun(['start'], { LARKSPUR_DATA_DIR: dir, PORT: String(port), HOST: '127.0.0.1', WORKER_PORT: String(workerPort) });
    const r = run;
    await r.waitFor('a ready web app', () => ok(`http://127.0.0.1:${port}/readyz`));
    await r.waitFor('a ready worker', () => ok(`http://127.0.0.1:${workerPort}/readyz`));
    const ports = [port, workerPort, postgresPort(path.join(dir, 'pg'))];
    expectWholeTree(r);

    await expectAllStopped(r, ports, await r.stop('SIGINT'));
  }, 180_000);
});
