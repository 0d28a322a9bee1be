import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../test/db';

const ROOT = path.resolve(import.meta.dirname, '..');

let t: TestDatabase;
let blocker: net.Server;
let takenPort: number;

beforeAll(async () => {
  t = await createTestDatabase();
  // What a second worker on the same host finds: the ops port already bound.
  blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  takenPort = (blocker.address() as net.AddressInfo).port;
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => blocker?.close(resolve));
  await t?.drop();
});

type WorkerRun = { exited: Promise<number | null>; stdout: () => string; stderr: () => string; kill: (signal: NodeJS.Signals) => void };

// `npm run worker` as a process manager starts it.
function startWorkerProcess(env: Record<string, string>): WorkerRun {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: t.url, LOG_LEVEL: 'info', LARK_SECRET_KEY: '', WORKER_HOST: '127.0.0.1', ...env };
  for (const name of Object.keys(childEnv)) if (name.startsWith('VITEST')) delete childEnv[name];
  const child = spawn(process.execPath, ['--conditions=react-server', '--import', 'tsx', 'worker/main.ts'], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  void exited.then(() => clearTimeout(killer));
  return { exited, stdout: () => stdout, stderr: () => stderr, kill: (signal) => child.kill(signal) };
}

test('a WORKER_PORT in use stops the start with exit code 2 and one line naming it', { timeout: 90_000 }, async () => {
  const worker = startWorkerProcess({ WORKER_PORT: String(takenPort) });
  expect(await worker.exited).toBe(2);
  const lines = worker.stderr().trim().split('\n').filter((line) => line.includes('WORKER_PORT'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(`WORKER_PORT ${takenPort} is already in use`);
  expect(lines[0]).toContain('WORKER_PORT=0');
  expect(worker.stdout()).not.toContain('worker crashed');
});

test('WORKER_PORT=0 starts on a free port and logs it', { timeout: 90_000 }, async () => {
  const worker = startWorkerProcess({ WORKER_PORT: '0' });
  let started: { opsPort?: number } | undefined;
  const deadline = Date.now() + 60_000;
  while (!started && Date.now() < deadline) {
    const line = worker.stdout().split('\n').find((l) => l.includes('"worker started"'));
    if (line) started = JSON.parse(line) as { opsPort?: number };
    else await new Promise((resolve) => setTimeout(resolve, 100));
  }
  try {
    expect(started?.opsPort).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${started!.opsPort}/healthz`)).status).toBe(200);
  } finally {
    worker.kill('SIGTERM');
  }
  expect(await worker.exited).toBe(0);
});
