import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import type pg from 'pg';

// CPU over a phase of the worker process, of this process (simulator and load generator) and of the
// PostgreSQL server processes: on a small shared machine, the first thing to look at.

export type PhaseUsage = {
  seconds: number;
  /** Shares of one core. */
  processCpu: number;
  eventLoopBusy: number;
  eventLoopDelayP99Ms: number;
  postgresCpu: number | null;
  workerCpu: number | null;
  workerCpuSeconds: number | null;
  workerRssMiB: number | null;
  workerPeakRssMiB: number | null;
  /** Share of the phase the worker's main thread (its event loop) was runnable but had no CPU. */
  workerRunQueueWait: number | null;
  /** Seconds PostgreSQL's processes together were runnable without a CPU, per second of the phase (at least). */
  postgresRunQueueWait: number | null;
};

const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Fields after the parenthesised command of /proc/<pid>/stat: state ppid ... utime(14) stime(15) cutime(16) cstime(17). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Nanoseconds a task spent runnable on a run queue, from /proc/<pid>/schedstat (run, wait, slices). */
async function runQueueWaitNs(statPath: string): Promise<number> {
  try {
    return Number((await fs.readFile(statPath, 'utf8')).split(' ')[1]) || 0;
  } catch {
    return 0;
  }
}

type PostgresSample = { ticks: number; waitNs: Map<number, number> };

async function postgresSample(postmasterPid: number): Promise<PostgresSample> {
  let ticks = 0;
  const waitNs = new Map<number, number>();
  for (const name of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const fields = statFields(await fs.readFile(`/proc/${name}/stat`, 'utf8'));
      const pid = Number(name);
      const ppid = Number(fields[1]);
      if (pid !== postmasterPid && ppid !== postmasterPid) continue;
      ticks += Number(fields[11]) + Number(fields[12]);
      // Backends that have exited (pool connections closed while idle) live on in the postmaster's
      // cutime and cstime once it has reaped them.
      if (pid === postmasterPid) ticks += Number(fields[13]) + Number(fields[14]);
      waitNs.set(pid, await runQueueWaitNs(`/proc/${name}/schedstat`));
    } catch {
      // The process ended between readdir and readFile.
    }
  }
  return { ticks, waitNs };
}

/** Run-queue wait of the processes alive at both ends: a lower bound when backends come and go. */
function postgresWaitSeconds(start: PostgresSample, end: PostgresSample): number {
  let ns = 0;
  for (const [pid, endNs] of end.waitNs) {
    const startNs = start.waitNs.get(pid);
    if (startNs !== undefined) ns += endNs - startNs;
  }
  return ns / 1e9;
}

/** User and system CPU seconds of one process (all its threads) so far; null once it is gone. */
export async function processCpuSeconds(pid: number): Promise<number | null> {
  try {
    const fields = statFields(await fs.readFile(`/proc/${pid}/stat`, 'utf8'));
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return null;
  }
}

/** Resident memory now and at its peak, in MiB. */
export async function processMemory(pid: number): Promise<{ rssMiB: number; peakMiB: number } | null> {
  try {
    const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
    return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

export async function postmasterPid(dataDir: string): Promise<number | null> {
  try {
    const pid = Number((await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    return Number.isFinite(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Sampling interval of event loop delay histograms; they record whole intervals, so an idle loop reads this much. */
export const LOOP_SAMPLE_MS = 10;

/** Starts measuring; the returned function ends the phase. */
export async function measureUsage(pids: { postgres: number | null; worker: number | null }): Promise<() => Promise<PhaseUsage>> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const elu: EventLoopUtilization = performance.eventLoopUtilization();
  const delay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  delay.enable();
  const pgStart = pids.postgres ? await postgresSample(pids.postgres) : null;
  const workerStart = pids.worker ? await processCpuSeconds(pids.worker) : null;
  const workerWaitStart = pids.worker ? await runQueueWaitNs(`/proc/${pids.worker}/schedstat`) : 0;
  return async () => {
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const busy = performance.eventLoopUtilization(elu).utilization;
    delay.disable();
    const pgEnd = pids.postgres ? await postgresSample(pids.postgres) : null;
    const workerEnd = pids.worker ? await processCpuSeconds(pids.worker) : null;
    const workerWaitEnd = pids.worker ? await runQueueWaitNs(`/proc/${pids.worker}/schedstat`) : 0;
    const workerCpuSeconds = workerStart !== null && workerEnd !== null ? workerEnd - workerStart : null;
    const memory = pids.worker ? await processMemory(pids.worker) : null;
    return {
      seconds,
      processCpu: (used.user + used.system) / 1e6 / seconds,
      eventLoopBusy: busy,
      eventLoopDelayP99Ms: Math.max(0, delay.percentile(99) / 1e6 - LOOP_SAMPLE_MS),
      postgresCpu: pgStart && pgEnd ? (pgEnd.ticks - pgStart.ticks) / clockTicks / seconds : null,
      workerCpu: workerCpuSeconds === null ? null : workerCpuSeconds / seconds,
      workerCpuSeconds,
      workerRssMiB: memory?.rssMiB ?? null,
      workerPeakRssMiB: memory?.peakMiB ?? null,
      workerRunQueueWait: pids.worker ? (workerWaitEnd - workerWaitStart) / 1e9 / seconds : null,
      postgresRunQueueWait: pgStart && pgEnd ? postgresWaitSeconds(pgStart, pgEnd) / seconds : null,
    };
  };
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

export function describeUsage(u: PhaseUsage): string {
  const workerPart =
    u.workerCpu === null
      ? 'worker n/a'
      : `worker process ${pct(u.workerCpu)} of a core, RSS ${u.workerRssMiB?.toFixed(0) ?? '?'} MiB (peak ${u.workerPeakRssMiB?.toFixed(0) ?? '?'} MiB), ` +
        `its event loop thread runnable without a CPU ${pct(u.workerRunQueueWait ?? 0)} of the time`;
  const pgPart =
    u.postgresCpu === null
      ? 'PostgreSQL n/a'
      : `PostgreSQL ${pct(u.postgresCpu)} of a core (its processes together waited at least ${(u.postgresRunQueueWait ?? 0).toFixed(2)} s per second for a CPU)`;
  return (
    `${workerPart}; ${pgPart}; bench process (simulator and load generator) ${pct(u.processCpu)} of a core ` +
    `(event loop busy ${pct(u.eventLoopBusy)}, loop delay p99 ${u.eventLoopDelayP99Ms.toFixed(1)} ms)`
  );
}

export type BackendSample = {
  samples: number;
  /** Sums over the samples, by "who state". */
  busy: Map<string, number>;
  /** Sums over the samples of open connections, by who. */
  open: Map<string, number>;
  openMax: Map<string, number>;
};

/**
 * Samples what the database's PostgreSQL backends are doing (running, waiting on a lock, idle inside
 * a transaction while the client computes), told apart by application_name: the worker's pool and
 * listeners, and pg-boss.
 */
export function sampleBackends(probe: Pick<pg.Pool, 'query'>, workerAppName: string, intervalMs = 100): () => Promise<BackendSample> {
  const busy = new Map<string, number>();
  const open = new Map<string, number>();
  const openMax = new Map<string, number>();
  let samples = 0;
  let stopped = false;
  const add = (map: Map<string, number>, key: string, n: number) => map.set(key, (map.get(key) ?? 0) + n);
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await probe.query<{ who: string; state: string; n: number }>(
        `SELECT CASE application_name WHEN $1 THEN 'worker' WHEN 'larkspur-jobs' THEN 'pg-boss' ELSE 'other' END AS who,
                CASE
                  WHEN state = 'active' AND wait_event IS NULL THEN 'running'
                  WHEN state = 'active' THEN wait_event_type || ':' || wait_event
                  ELSE coalesce(state, 'unknown') END AS state,
                count(*)::int AS n
         FROM pg_stat_activity
         WHERE datname = current_database() AND backend_type = 'client backend' AND usename <> current_user
         GROUP BY 1, 2`,
        [workerAppName],
      );
      const openNow = new Map<string, number>();
      for (const r of rows) {
        add(openNow, r.who, r.n);
        if (r.state !== 'idle') add(busy, `${r.who} ${r.state}`, r.n);
      }
      for (const [who, n] of openNow) {
        add(open, who, n);
        openMax.set(who, Math.max(openMax.get(who) ?? 0, n));
      }
      samples += 1;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    return { samples, busy, open, openMax };
  };
}

export function describeBackends(s: BackendSample, workerPoolSize: number): string {
  const per = (n: number) => (n / Math.max(1, s.samples)).toFixed(1);
  const total = [...s.busy.values()].reduce((a, b) => a + b, 0);
  const parts = [...s.busy]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([state, n]) => `${state} ${per(n)}`)
    .join(', ');
  const connections = [...s.open]
    .map(([who, n]) => `${who} ${per(n)} open (max ${s.openMax.get(who)})`)
    .join(', ');
  return (
    `PostgreSQL backends busy for the database: ${per(total)} on average (${parts || 'none'}); ` +
    `connections: ${connections || 'none'}; the worker's pool allows ${workerPoolSize}, its listeners come on top`
  );
}

/** Least-squares slope of the worker's memory (MiB) over its runs in flight, in KiB per run; NaN when the fit explains under a quarter of the variation or slopes down. */
export function memoryPerRun(samples: Array<{ running: number; mib: number | null }>): { kibPerRun: number; r2: number; samples: number; falls: boolean } {
  const points = samples.filter((s): s is { running: number; mib: number } => s.mib !== null);
  const n = points.length;
  if (n < 3) return { kibPerRun: Number.NaN, r2: 0, samples: n, falls: false };
  const meanX = points.reduce((a, p) => a + p.running, 0) / n;
  const meanY = points.reduce((a, p) => a + p.mib, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const p of points) {
    sxy += (p.running - meanX) * (p.mib - meanY);
    sxx += (p.running - meanX) ** 2;
    syy += (p.mib - meanY) ** 2;
  }
  if (sxx === 0 || syy === 0) return { kibPerRun: Number.NaN, r2: 0, samples: n, falls: false };
  const slope = sxy / sxx;
  const r2 = (sxy * sxy) / (sxx * syy);
  return { kibPerRun: slope > 0 && r2 >= 0.25 ? slope * 1024 : Number.NaN, r2, samples: n, falls: slope <= 0 };
}
