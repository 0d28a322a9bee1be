import type pg from 'pg';

// Counts statements at the server with pg_stat_statements, so the worker runs unmodified in its own
// process. pg_stat_statements keys its entries by role and database, not by application_name: the
// benchmark's own probes connect as a role of their own and are left out by that.

/** Server settings that load pg_stat_statements; it can only be loaded when the server starts. */
export function statementTrackingFlags(trackPlanning: boolean): string[] {
  return [
    '-c',
    'shared_preload_libraries=pg_stat_statements',
    '-c',
    'pg_stat_statements.track=all',
    // Planning statistics make every backend running the same statement contend for its entry
    // (PostgreSQL documents the penalty): the measuring would slow what is measured.
    '-c',
    `pg_stat_statements.track_planning=${trackPlanning ? 'on' : 'off'}`,
  ];
}

export type StatementStats = { label: string; calls: number; totalMs: number; planMs: number };

export type StatementWindow = {
  /** Statements sent by clients: one round trip each. */
  total: number;
  /** Their execution time at the server (lock waits included, parsing and planning not). */
  totalMs: number;
  /** Time the server spent planning them. */
  planMs: number;
  /** Statements the server ran on behalf of those: inside functions and triggers, deferred foreign-key checks. */
  nested: number;
  bySource: Map<string, number>;
  statements: StatementStats[];
};

type Queryable = Pick<pg.Pool, 'query'>;

// Deferred foreign-key checks run at commit, outside any statement, so pg_stat_statements files them
// as top level although no client sent them (the text is ri_triggers.c's).
const foreignKeyCheck = /^SELECT \S+ FROM ONLY \S+ x WHERE [\s\S]* FOR KEY SHARE OF x$/;

function labelOf(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}…` : flat;
}

function sourceOf(text: string): string {
  if (/^\s*(begin|commit|rollback|savepoint|release)\b/i.test(text)) return 'transaction control';
  // pg-boss keeps its tables in the pgboss schema (server/jobs/queue.ts), whichever pool sends the statement.
  if (/\bpgboss\./i.test(text)) return 'job queue (pgboss.*)';
  return 'application tables';
}

export async function enableStatementTracking(adminOfBenchDatabase: Queryable): Promise<void> {
  await adminOfBenchDatabase.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
}

export async function resetStatements(probe: Queryable): Promise<void> {
  await probe.query('SELECT pg_stat_statements_reset()');
}

/** Everything other roles ran in the probe's database since the last reset. */
export async function readStatements(probe: Queryable): Promise<StatementWindow> {
  const { rows } = await probe.query<{ query: string; toplevel: boolean; calls: number; total_ms: number; plan_ms: number }>(
    `SELECT query, toplevel, calls::float8 AS calls, total_exec_time::float8 AS total_ms, total_plan_time::float8 AS plan_ms
     FROM pg_stat_statements
     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND userid <> (SELECT oid FROM pg_roles WHERE rolname = current_user)`,
  );
  let total = 0;
  let totalMs = 0;
  let planMs = 0;
  let nested = 0;
  const bySource = new Map<string, number>();
  const byLabel = new Map<string, StatementStats>();
  for (const row of rows) {
    if (!row.toplevel || foreignKeyCheck.test(row.query)) {
      nested += row.calls;
      continue;
    }
    total += row.calls;
    totalMs += row.total_ms;
    planMs += row.plan_ms;
    const source = sourceOf(row.query);
    bySource.set(source, (bySource.get(source) ?? 0) + row.calls);
    // The same text can have several entries (e.g. one per role); they are one statement here.
    const label = labelOf(row.query);
    const stats = byLabel.get(label) ?? { label, calls: 0, totalMs: 0, planMs: 0 };
    stats.calls += row.calls;
    stats.totalMs += row.total_ms;
    stats.planMs += row.plan_ms;
    byLabel.set(label, stats);
  }
  return { total, totalMs, planMs, nested, bySource, statements: [...byLabel.values()].sort((a, b) => b.calls - a.calls) };
}
