import { performance } from 'node:perf_hooks';
import pg from 'pg';

// Counts statements at the driver: every pool (the worker's, pg-boss's) and every single client in
// this process ends in pg.Client.prototype.query, so patching it sees all round trips without
// touching the code under test. pg_stat_statements would need a server restart to load.

export type StatementStats = { label: string; count: number; totalMs: number; timed: number };

export type QuerySnapshot = { total: number; bySource: Map<string, number>; statements: Map<string, StatementStats> };

export type QueryCounter = {
  /** Statements on this client (the benchmark's own probes) are not counted. */
  ignore(client: pg.Client): void;
  snapshot(): QuerySnapshot;
  uninstall(): void;
};

type QueryFunction = (this: pg.Client, ...args: unknown[]) => unknown;
type ClientWithParameters = pg.Client & { connectionParameters?: { application_name?: string } };

function textOf(config: unknown): string {
  if (typeof config === 'string') return config;
  if (config && typeof config === 'object' && typeof (config as { text?: unknown }).text === 'string') return (config as { text: string }).text;
  return '(prepared or submittable)';
}

function labelOf(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const verb = (/^(\w+)/.exec(flat)?.[1] ?? '?').toUpperCase();
  const table = /\b(?:from|into|update)\s+("?[\w.]+"?(?:\."?\w+"?)?)/i.exec(flat)?.[1]?.replace(/"/g, '');
  const where = /\bwhere\b(.{0,70})/i.exec(flat)?.[1]?.trim();
  if (!table) return flat.slice(0, 90);
  return `${verb} ${table}${where ? ` WHERE ${where}` : ''}`;
}

function sourceOf(client: pg.Client): string {
  // pg-boss connects with its own application_name (server/jobs/queue.ts).
  return (client as ClientWithParameters).connectionParameters?.application_name === 'larkspur-jobs' ? 'job queue pool (pg-boss)' : 'worker pool and listeners';
}

export function installQueryCounter(): QueryCounter {
  const prototype = pg.Client.prototype as unknown as { query: QueryFunction };
  const original = prototype.query;
  const ignored = new WeakSet<pg.Client>();
  let total = 0;
  const bySource = new Map<string, number>();
  const statements = new Map<string, StatementStats>();

  prototype.query = function countingQuery(this: pg.Client, ...args: unknown[]): unknown {
    if (ignored.has(this)) return original.apply(this, args);
    total += 1;
    const source = sourceOf(this);
    bySource.set(source, (bySource.get(source) ?? 0) + 1);
    const text = textOf(args[0]);
    const key = text.length > 600 ? text.slice(0, 600) : text;
    let stats = statements.get(key);
    if (!stats) {
      stats = { label: labelOf(text), count: 0, totalMs: 0, timed: 0 };
      statements.set(key, stats);
    }
    stats.count += 1;
    const entry = stats;
    const started = performance.now();
    const finished = () => {
      entry.totalMs += performance.now() - started;
      entry.timed += 1;
    };
    const last = args.at(-1);
    if (typeof last === 'function') {
      args[args.length - 1] = function timedCallback(this: unknown, ...callbackArgs: unknown[]) {
        finished();
        return (last as (...a: unknown[]) => unknown).apply(this, callbackArgs);
      };
      return original.apply(this, args);
    }
    const result = original.apply(this, args);
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(finished, finished);
    }
    return result;
  };

  return {
    ignore: (client) => ignored.add(client),
    snapshot: () => ({
      total,
      bySource: new Map(bySource),
      statements: new Map([...statements].map(([k, v]) => [k, { ...v }])),
    }),
    uninstall: () => {
      prototype.query = original;
    },
  };
}

/** What happened between two snapshots. */
export function queriesBetween(before: QuerySnapshot, after: QuerySnapshot): QuerySnapshot {
  const bySource = new Map<string, number>();
  for (const [source, count] of after.bySource) bySource.set(source, count - (before.bySource.get(source) ?? 0));
  const statements = new Map<string, StatementStats>();
  for (const [key, stats] of after.statements) {
    const earlier = before.statements.get(key);
    const count = stats.count - (earlier?.count ?? 0);
    if (count === 0) continue;
    statements.set(key, {
      label: stats.label,
      count,
      totalMs: stats.totalMs - (earlier?.totalMs ?? 0),
      timed: stats.timed - (earlier?.timed ?? 0),
    });
  }
  return { total: after.total - before.total, bySource, statements };
}
