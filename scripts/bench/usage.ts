import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';

// CPU of this process (simulator, worker and load generator share its one event loop) and of the
// PostgreSQL server processes over a phase: on a small shared machine, the first thing to look at.

export type PhaseUsage = {
  seconds: number;
  /** Share of one core. */
  processCpu: number;
  eventLoopBusy: number;
  eventLoopDelayP99Ms: number;
  postgresCpu: number | null;
};

const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

async function postgresTicks(postmasterPid: number): Promise<number> {
  let ticks = 0;
  for (const name of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await fs.readFile(`/proc/${name}/stat`, 'utf8');
      // Fields after the parenthesised command: state ppid ... utime(14) stime(15).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(name);
      const ppid = Number(fields[1]);
      if (pid !== postmasterPid && ppid !== postmasterPid) continue;
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended between readdir and readFile.
    }
  }
  return ticks;
}

export async function postmasterPid(dataDir: string): Promise<number | null> {
  try {
    const pid = Number((await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    return Number.isFinite(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Starts measuring; the returned function ends the phase. */
export async function measureUsage(pgPid: number | null): Promise<() => Promise<PhaseUsage>> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const elu: EventLoopUtilization = performance.eventLoopUtilization();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const pgStart = pgPid ? await postgresTicks(pgPid) : 0;
  return async () => {
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const busy = performance.eventLoopUtilization(elu).utilization;
    delay.disable();
    const pgEnd = pgPid ? await postgresTicks(pgPid) : 0;
    return {
      seconds,
      processCpu: (used.user + used.system) / 1e6 / seconds,
      eventLoopBusy: busy,
      eventLoopDelayP99Ms: delay.percentile(99) / 1e6,
      postgresCpu: pgPid ? (pgEnd - pgStart) / clockTicks / seconds : null,
    };
  };
}

export function describeUsage(u: PhaseUsage): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const pgPart = u.postgresCpu === null ? 'PostgreSQL n/a' : `PostgreSQL ${pct(u.postgresCpu)} of a core`;
  return `bench process ${pct(u.processCpu)} of a core (event loop busy ${pct(u.eventLoopBusy)}, loop delay p99 ${u.eventLoopDelayP99Ms.toFixed(1)} ms), ${pgPart}`;
}

type PoolLike = { totalCount: number; idleCount: number; waitingCount: number };
type QueryablePool = { query: (text: string) => Promise<{ rows: Array<{ state: string; n: number }> }> };

export type BackendSample = { samples: number; states: Map<string, number>; poolBusyMean: number; poolWaitingMean: number; poolWaitingMax: number; poolSize: number };

/**
 * Samples what PostgreSQL backends of the database are doing (running, waiting on a lock, idle inside
 * a transaction while the client computes) and how many callers queue for the worker's pool.
 */
export function sampleBackends(probe: QueryablePool, workerPool: PoolLike & { options?: { max?: number } }, intervalMs = 100): () => Promise<BackendSample> {
  const states = new Map<string, number>();
  let samples = 0;
  let busy = 0;
  let waiting = 0;
  let waitingMax = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      busy += workerPool.totalCount - workerPool.idleCount;
      waiting += workerPool.waitingCount;
      waitingMax = Math.max(waitingMax, workerPool.waitingCount);
      const { rows } = await probe.query(`SELECT CASE
            WHEN state = 'active' AND wait_event IS NULL THEN 'running'
            WHEN state = 'active' THEN wait_event_type || ':' || wait_event
            ELSE state END AS state, count(*)::int AS n
          FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')
            AND query NOT LIKE 'LISTEN%'
          GROUP BY 1`);
      for (const r of rows) states.set(r.state, (states.get(r.state) ?? 0) + r.n);
      samples += 1;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    return {
      samples,
      states,
      poolBusyMean: busy / Math.max(1, samples),
      poolWaitingMean: waiting / Math.max(1, samples),
      poolWaitingMax: waitingMax,
      poolSize: workerPool.options?.max ?? Number.NaN,
    };
  };
}

export function describeBackends(s: BackendSample): string {
  const total = [...s.states.values()].reduce((a, b) => a + b, 0);
  const parts = [...s.states]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([state, n]) => `${state} ${(n / Math.max(1, s.samples)).toFixed(1)}`)
    .join(', ');
  return (
    `PostgreSQL backends busy for the database: ${(total / Math.max(1, s.samples)).toFixed(1)} on average (${parts || 'none'}); ` +
    `worker pool ${s.poolBusyMean.toFixed(1)} of ${s.poolSize} connections checked out, ${s.poolWaitingMean.toFixed(1)} callers waiting on average (max ${s.poolWaitingMax})`
  );
}
