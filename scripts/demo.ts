// `npm run demo`: the product wired to the local Lark simulator, with a seeded owner, workspace,
// agents and Lark team, so the whole Lark flow can be tried without a Lark account.
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../server/env';
import { startSimulator, type Simulator } from '../simulator/server';
import { demoBanner } from './demo/instructions';
import { baseUrlFetch } from './demo/http';
import { seedDemo } from './demo/seed';
import { listInstallations, watchInstalledBots } from './demo/seed-lark';
import { launch, takeOverStopSignals, type Launched } from './launcher';

const log = (line: string) => console.log(`[demo] ${line}`);

const usage = `Usage: npm run demo [-- --reset]

  --reset   delete the demo's data (.data/demo) first and start from scratch

Environment: PORT (web, 3000), SIM_PORT (Lark simulator, 4010), HOST and SIM_HOST (127.0.0.1),
WORKER_PORT (the worker's health and metrics, PORT + 1), LOG_LEVEL (warn),
LARKSPUR_DATA_DIR (.data; the demo keeps its data in its demo/ folder).`;

const readyTimeoutMs = 180_000;
const installationWatchMs = 2_000;

/** The demo's own data, next to `npm start`'s and never in it. */
const dataDir = path.resolve(process.env.LARKSPUR_DATA_DIR || '.data', 'demo');

function parseArgs(argv: string[]): { reset: boolean } {
  let reset = false;
  for (const arg of argv) {
    if (arg === '--reset') reset = true;
    else if (arg === '--help' || arg === '-h') {
      console.log(usage);
      process.exit(0);
    } else throw new ConfigError(`Unknown argument ${arg}\n\n${usage}`);
  }
  return { reset };
}

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const port = raw ? Number(raw) : fallback;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError(`${name} must be a port number (1-65535), got "${raw}"`);
  return port;
}

async function demoDatabaseIsRunning(): Promise<boolean> {
  const pidFile = await fs.readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number(pidFile.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitUntilReady(url: string, launched: Launched): Promise<void> {
  let exited: { name: string; code: number | null } | undefined;
  void launched.exited.then((e) => (exited = e));
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exited) throw new Error(`${exited.name} exited (code ${exited.code}) before the app was ready`);
    const ready = await fetch(`${url}/readyz`).then((res) => res.ok, () => false);
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`the app did not answer ${url}/readyz within ${readyTimeoutMs / 1000} s`);
    await sleep(500);
  }
}

async function main() {
  const { reset } = parseArgs(process.argv.slice(2));
  const port = portFromEnv('PORT', 3000);
  const simPort = portFromEnv('SIM_PORT', 4010);
  const host = process.env.HOST || '127.0.0.1';
  const simHost = process.env.SIM_HOST || '127.0.0.1';
  // Relative when it is inside the project, as the default is; absolute otherwise.
  const relative = path.relative(process.cwd(), dataDir);
  const shownDataDir = relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : dataDir;

  if (reset) {
    if (await demoDatabaseIsRunning()) throw new ConfigError('The demo is already running; stop it before resetting its data.');
    await fs.rm(dataDir, { recursive: true, force: true });
    log(`Deleted ${shownDataDir}.`);
  }
  await fs.mkdir(dataDir, { recursive: true });

  // Quick device-flow polling so a QR approval turns into an installed bot within a few seconds.
  const sim: Simulator = await startSimulator({
    port: simPort,
    host: simHost,
    registrationIntervalSeconds: 2,
    stateFile: path.join(dataDir, 'simulator.json'),
  }).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'EADDRINUSE' ? new ConfigError(`SIM_PORT ${simPort} is in use; set SIM_PORT to a free port.`) : error;
  });
  log(`Lark simulator at ${sim.url}`);

  let launched: Launched | undefined;
  const watcher = new AbortController();
  let stopping: Promise<void> | undefined;
  const shutdown = (code: number) => {
    stopping ??= (async () => {
      log('Stopping…');
      watcher.abort();
      await launched?.stop();
      await sim.close();
      log('Stopped.');
      process.exit(code);
    })();
    return stopping;
  };
  // A signal while starting aborts the start: launch() stops what it began (a build, the database).
  const starting = new AbortController();
  const onSignal = () => {
    if (launched) void shutdown(0);
    else starting.abort();
  };
  // Ordered stop: web and worker first (they need the database), then PostgreSQL, then the
  // simulator (its state saved last).
  takeOverStopSignals(onSignal);

  const appUrl = `http://localhost:${port}`;
  try {
    launched = await launch({
      dataDir,
      port,
      host,
      log,
      signal: starting.signal,
      env: {
        // Always the demo's embedded database, even when the shell points DATABASE_URL elsewhere.
        DATABASE_URL: '',
        APP_URL: appUrl,
        LARK_OPEN_BASE_URL: `${sim.url}/{region}`,
        LARK_ACCOUNTS_BASE_URL: `${sim.url}/{region}`,
        // The web server runs with NODE_ENV=production, and the simulator speaks plain http.
        LARK_ALLOW_INSECURE_HOSTS: 'true',
        LARK_REGISTRATION_TICK_MS: '500',
        // Keeps the walkthrough on screen; LOG_LEVEL=info shows every worker step.
        LOG_LEVEL: process.env.LOG_LEVEL || 'warn',
        // Next to the web port, so a demo and `npm start` can run side by side.
        WORKER_PORT: process.env.WORKER_PORT || String(port + 1),
      },
    });
  } catch (error) {
    await sim.close();
    if (starting.signal.aborted) {
      log('Stopped before the start was complete.');
      process.exit(0);
    }
    throw error;
  }

  // The script talks to the server directly; the browser-facing URL stays APP_URL.
  const localUrl = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`;
  try {
    await waitUntilReady(localUrl, launched);
    const seed = await seedDemo({ app: { send: baseUrlFetch(localUrl), appUrl }, sim: baseUrlFetch(sim.url), credentialsFile: path.join(dataDir, 'credentials.json') });
    void watchInstalledBots({
      app: baseUrlFetch(localUrl),
      token: seed.owner.token,
      workspaceId: seed.workspace.id,
      sim: baseUrlFetch(sim.url),
      team: seed.team,
      intervalMs: installationWatchMs,
      signal: watcher.signal,
      log,
    });
    // The walkthrough for a demo with nothing bound yet; afterwards just where everything is.
    const installations = await listInstallations({ app: baseUrlFetch(localUrl), token: seed.owner.token, workspaceId: seed.workspace.id });
    console.log(demoBanner({ appUrl, simUrl: sim.url, seed, dataDir: shownDataDir, installations }));
  } catch (error) {
    if (stopping) return stopping;
    console.error(error instanceof Error ? error.message : error);
    return shutdown(1);
  }

  const first = await launched.exited;
  if (!stopping) {
    log(`${first.name} exited unexpectedly (code ${first.code}); stopping everything.`);
    await shutdown(1);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
