import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { applyMigrations } from '../server/db/migrate';
import { parseEnv } from '../server/env';
import { supervise } from './supervise';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedServer } from './embedded-postgres';

export type LaunchOptions = {
  /** Where the embedded cluster and generated secrets live. */
  dataDir: string;
  port: number;
  host: string;
  /** Extra environment for web and worker. */
  env?: Record<string, string>;
  log: (line: string) => void;
  /** Aborting it (a stop signal while starting) ends the start early: the build is stopped and launch() rejects. */
  signal?: AbortSignal;
};

export type Launched = { appUrl: string; stop: () => Promise<void>; exited: Promise<{ name: string; code: number | null }> };

/**
 * embedded-postgres stops its cluster and exits the process on SIGINT/SIGTERM by itself, which
 * would cut an ordered stop short (web and worker need the database while they shut down). This
 * replaces those handlers with ours. Only listeners process.listeners() shows are removed: tsx's
 * own signal relay, when the script runs under the tsx command, is not among them and must stay.
 *
 * The signal may reach this process alone: `npm start` forwards a SIGTERM or SIGINT sent to npm to
 * its script, and nothing else of the tree gets it. So the handler, not the signal, stops the
 * children (web, worker, PostgreSQL, a build in progress). The npm scripts `exec` their command, so
 * no shell sits in between to swallow the signal (dash dies of it without passing it on).
 */
export function takeOverStopSignals(onSignal: (signal: NodeJS.Signals) => void): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const listener of process.listeners(signal)) process.removeListener(signal, listener);
    process.on(signal, onSignal);
  }
}

/** What the web build reads: a change in any of these means the next start builds again. */
export const BUILD_INPUTS = ['app', 'components', 'lib', 'server', 'i18n', 'locales', 'proxy.ts', 'postcss.config.mjs', 'instrumentation.ts', 'instrumentation-client.ts', 'next.config.ts', 'package-lock.json', 'tsconfig.json'];

async function fingerprint(root: string): Promise<string> {
  const hash = createHash('sha256');
  async function walk(p: string) {
    const stat = await fs.stat(p).catch(() => null);
    if (!stat) return;
    if (stat.isDirectory()) {
      for (const entry of (await fs.readdir(p)).sort()) await walk(path.join(p, entry));
    } else if (!p.endsWith('.test.ts') && !p.endsWith('.test.tsx')) {
      hash.update(`${path.relative(root, p)}:${stat.size}:${stat.mtimeMs}\n`);
    }
  }
  for (const input of BUILD_INPUTS) await walk(path.join(root, input));
  return hash.digest('hex');
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // An abort sends the child SIGTERM; the promise then rejects with the abort reason.
    const child = spawn(cmd, args, { stdio: 'inherit', env, signal });
    child.on('error', (error) => {
      if (error.name !== 'AbortError') reject(error);
    });
    child.on('exit', (code) => {
      if (signal?.aborted) reject(signal.reason);
      else if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`));
    });
  });
}

/** Builds the web app when its sources changed since the last build (or there is none). */
export async function buildIfNeeded(log: (line: string) => void, signal?: AbortSignal): Promise<void> {
  const root = process.cwd();
  const stampFile = path.join(root, '.next', 'larkspur-build-stamp');
  const current = await fingerprint(root);
  const previous = await fs.readFile(stampFile, 'utf8').catch(() => '');
  if (previous === current && existsSync(path.join(root, '.next', 'BUILD_ID'))) return;
  log('Building the web app (first run or sources changed)…');
  await run(process.execPath, [path.join(root, 'node_modules/next/dist/bin/next'), 'build'], { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }, signal);
  await fs.writeFile(stampFile, current);
}

/** Reads a generated secret from the data dir, creating it on first use. */
export async function generatedSecret(dataDir: string, name: string, bytes: number, log: (line: string) => void): Promise<string> {
  const file = path.join(dataDir, name);
  const existing = await fs.readFile(file, 'utf8').catch(() => null);
  if (existing) return existing.trim();
  const value = randomBytes(bytes).toString('base64');
  await fs.mkdir(dataDir, { recursive: true });
  await fs.writeFile(file, `${value}\n`, { mode: 0o600 });
  log(`Generated ${name} in ${file} (set it explicitly in production).`);
  return value;
}

function spawnService(name: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, args, { stdio: 'inherit', env });
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Starts everything `npm start` promises: PostgreSQL (embedded unless DATABASE_URL is set),
 * migrations, a production build when needed, then web and worker as child processes.
 */
export async function launch(opts: LaunchOptions): Promise<Launched> {
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  opts.signal?.throwIfAborted();
  let embedded: EmbeddedServer | null = null;
  if (!baseEnv.DATABASE_URL) {
    opts.log('DATABASE_URL is not set: starting the embedded PostgreSQL…');
    embedded = await startEmbeddedPostgres({ dataDir: path.join(opts.dataDir, 'pg'), persistent: true });
  }
  // Whatever fails or is aborted from here on, the database started above is stopped again.
  try {
    if (embedded) {
      await ensureDatabase(embedded.url('postgres'), 'larkspur');
      // Web and worker run on this machine: its Unix socket saves them the loopback TCP stack.
      baseEnv.DATABASE_URL = embedded.socketUrl('larkspur');
    }
    baseEnv.PORT = String(opts.port);
    // One worker per data dir and machine: a stable id lets a restarted worker take back its own
    // Lark leases at once instead of waiting for them to expire.
    baseEnv.NODE_ID ??= `${os.hostname()}-${createHash('sha256').update(opts.dataDir).digest('hex').slice(0, 8)}`;
    baseEnv.APP_URL ??= `http://localhost:${opts.port}`;
    baseEnv.BETTER_AUTH_SECRET ??= await generatedSecret(opts.dataDir, 'auth-secret', 32, opts.log);
    // The Lark integration needs a key to encrypt app secrets; a local run gets one generated once.
    baseEnv.LARK_SECRET_KEY ??= await generatedSecret(opts.dataDir, 'lark-secret-key', 32, opts.log);
    const { DATABASE_URL } = parseEnv(baseEnv);
    opts.signal?.throwIfAborted();
    await applyMigrations(DATABASE_URL);
    opts.signal?.throwIfAborted();
    await buildIfNeeded(opts.log, opts.signal);
    opts.signal?.throwIfAborted();
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
  const env: NodeJS.ProcessEnv = { ...baseEnv, NEXT_TELEMETRY_DISABLED: '1' };
  // Our own server around Next's handler, so the app knows each request's TCP peer (TRUST_PROXY_HOPS).
  const web = spawnService('web', ['scripts/web-server.mjs', '-p', String(opts.port), '-H', opts.host], {
    ...env,
    NODE_ENV: 'production',
    LARKSPUR_PROCESS: 'web',
  });
  // The worker loads the same server modules as the web's server components; under the
  // react-server condition their `server-only` marker resolves to its empty module. Next sets this
  // up for the web itself, so the web's command line stays as it is.
  // A crashed worker is started again (it takes back its own leases and tasks); a configuration
  // error (exit code 2) would only crash again, so that one ends the run.
  const worker = supervise({
    name: 'worker',
    start: () => spawnService('worker', ['--conditions=react-server', '--import', 'tsx', 'worker/main.ts'], { ...env, LARKSPUR_PROCESS: 'worker' }),
    log: opts.log,
    isFinal: (exit) => exit.code === 2,
  });
  const exited = Promise.race([
    new Promise<{ name: string; code: number | null }>((resolve) => web.once('exit', (code) => resolve({ name: 'web', code }))),
    worker.ended.then(({ name, code }) => ({ name, code })),
  ]);
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      worker.release();
      const children = [web, worker.current()];
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.all(children.map((child) => waitForExit(child, 20_000)));
      await embedded?.stop();
    })();
    return stopping;
  };
  return { appUrl: baseEnv.APP_URL as string, stop, exited };
}
