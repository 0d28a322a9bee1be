// The worker as its own process, started exactly as in production (`npm run worker`), for the
// benchmarks and the fault suite.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export type WorkerProcess = { child: ChildProcess; pid: number; logPath: string; exited: Promise<void> };

const DEFAULT_STOP_DEADLINE_MS = 25_000;

/** Spawns `worker/main.ts` with exactly `env` (nothing inherited), stdout and stderr appended to `logPath`. */
export async function startWorkerProcess(env: Record<string, string | undefined>, logPath: string): Promise<WorkerProcess> {
  const log = await fs.open(logPath, 'a');
  try {
    // Next's types make NODE_ENV a required key of ProcessEnv; the worker does not read it.
    const child = spawn(process.execPath, [...(process.env.BENCH_WORKER_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_WORKER_CPU_PROF] : []), '--conditions=react-server', '--import', 'tsx', 'worker/main.ts'], {
      cwd: repoRoot,
      env: env as NodeJS.ProcessEnv,
      stdio: ['ignore', log.fd, log.fd],
      // A session of its own, as a process manager starts a service. With autogroup scheduling (on
      // where this runs), Linux shares the CPU between sessions, and every PostgreSQL backend is one:
      // a worker left in its starter's session would split one share with the benchmark's simulator
      // and load generator.
      detached: true,
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.on('error', () => {});
    return { child, pid: child.pid!, logPath, exited };
  } finally {
    await log.close();
  }
}

export const isRunning = (w: WorkerProcess) => w.child.exitCode === null && w.child.signalCode === null;

/** SIGTERM as a process manager sends it; SIGKILL when the worker is not gone by the deadline. */
export async function stopWorkerProcess(w: WorkerProcess, deadlineMs = DEFAULT_STOP_DEADLINE_MS): Promise<string> {
  if (!isRunning(w)) return `had already exited (${w.child.exitCode ?? w.child.signalCode})`;
  const started = Date.now();
  w.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([w.exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), deadlineMs)))]);
  clearTimeout(timer);
  if (!inTime) {
    w.child.kill('SIGKILL');
    await w.exited;
    return `did NOT stop within ${deadlineMs / 1000} s of SIGTERM; killed`;
  }
  return `stopped ${((Date.now() - started) / 1000).toFixed(1)} s after SIGTERM (exit code ${w.child.exitCode ?? w.child.signalCode})`;
}

export async function logTail(w: Pick<WorkerProcess, 'logPath'>, lines = 20): Promise<string> {
  const text = await fs.readFile(w.logPath, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Warnings and errors the worker logged (pino JSON lines, level >= 40), counted by message. */
export async function logSummary(w: Pick<WorkerProcess, 'logPath'>): Promise<string> {
  const text = await fs.readFile(w.logPath, 'utf8').catch(() => '');
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let entry: { level?: number; msg?: string } | null = null;
    try {
      entry = JSON.parse(line) as { level?: number; msg?: string };
    } catch {
      // Not pino: stderr of the runtime, e.g. a stack trace.
    }
    const label = entry ? ((entry.level ?? 0) >= 40 ? (entry.msg ?? '(no message)') : null) : 'other output lines';
    if (label) counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  if (counts.size === 0) return 'no warnings or errors';
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([msg, n]) => `"${msg}" ×${n}`)
    .join(', ');
}
