// The faults, each injected while DMs flow. A fault reports when it ended: probes go into every
// chat at that moment and recovery is measured from it.
import { PROBE_APP_NAME } from './database';
import type { ChaosEnvironment } from './environment';
import type { SimFault } from './simulator';
import { seconds, sleep, waitUntil } from './timing';
import type { Traffic } from './traffic';

export type Sizes = {
  bots: number;
  /** DMs per second, across all bots. */
  ratePerSecond: number;
  /** Load before the fault and after its end. */
  beforeMs: number;
  afterMs: number;
  /** How long an API storm lasts. */
  stormMs: number;
  /** How long a Postgres restart keeps the server down. */
  databaseDownMs: number;
  /** Longest wait for every probe's answer; slower counts as not recovered. */
  recoveryTimeoutMs: number;
  /** Longest wait, after the load stops, for every question's answer. */
  drainTimeoutMs: number;
  startTimeoutMs: number;
};

export const FULL: Sizes = {
  bots: 8,
  ratePerSecond: 4,
  beforeMs: 10_000,
  afterMs: 15_000,
  stormMs: 10_000,
  databaseDownMs: 5_000,
  recoveryTimeoutMs: 180_000,
  drainTimeoutMs: 60_000,
  startTimeoutMs: 90_000,
};

export const QUICK: Sizes = {
  bots: 3,
  ratePerSecond: 2,
  beforeMs: 4_000,
  afterMs: 5_000,
  stormMs: 4_000,
  databaseDownMs: 3_000,
  recoveryTimeoutMs: 60_000,
  drainTimeoutMs: 30_000,
  startTimeoutMs: 60_000,
};

export const RECOVERY_GOAL_MS = 10_000;
/** How far past the lease TTL a takeover after SIGKILL may take. */
export const TAKEOVER_MARGIN_MS = 5_000;

export type FaultContext = { env: ChaosEnvironment; traffic: Traffic; sizes: Sizes; log: (line: string) => void };

export type Takeover = { ms: number | null; goalMs: number; detail: string };

export type FaultResult = {
  /** When the fault ended (epoch ms). */
  endedAt: number;
  notes: string[];
  /** Measured while the probes are out (the takeover after SIGKILL); awaited before the figures. */
  after?: Promise<{ notes: string[]; takeover?: Takeover }>;
};

export type Scenario = {
  name: string;
  summary: string;
  /** The fault starts the workers itself. */
  startsWorkers?: boolean;
  /** Restarts the database server, so it needs one of its own. */
  needsOwnServer?: boolean;
  /** What "every chat answers again" may take, from the fault's end. */
  recoveryGoalMs?: (env: ChaosEnvironment) => number;
  inject: (ctx: FaultContext) => Promise<FaultResult>;
};

const leaseTtlMs = (env: ChaosEnvironment) => env.workerConfig?.LARK_LEASE_TTL_MS ?? 30_000;

/** A REST fault for the length of a storm, in phases of equal length, then cleared. */
async function storm(ctx: FaultContext, phases: SimFault[]): Promise<FaultResult> {
  const control = ctx.env.sim.control;
  const notes: string[] = [];
  for (const fault of phases) {
    const { id } = await control.addFault(fault);
    await sleep(ctx.sizes.stormMs / phases.length);
    await control.removeFault(id);
  }
  const endedAt = Date.now();
  notes.push(`${phases.length > 1 ? `${phases.length} phases, ` : ''}${seconds(ctx.sizes.stormMs)} on every bot`);
  return { endedAt, notes };
}

const MESSAGES_PATH = '/open-apis/im/v1/messages';

export const SCENARIOS: Scenario[] = [
  {
    name: 'worker-sigkill',
    summary: 'SIGKILL the worker holding the most bots; the other takes them over',
    recoveryGoalMs: (env) => leaseTtlMs(env) + TAKEOVER_MARGIN_MS,
    async inject({ env, log }) {
      const leases = await env.leasesByWorker();
      const running = env.workers.filter((w) => w.crash === null && !w.stopRequested);
      if (running.length < 2) throw new Error(`needs two running workers, has ${running.length}`);
      const victim = running.reduce((a, b) => ((leases.get(b.nodeId) ?? 0) > (leases.get(a.nodeId) ?? 0) ? b : a));
      const held = leases.get(victim.nodeId) ?? 0;
      const killedAt = Date.now();
      env.kill(victim);
      log(`killed worker ${victim.label} (held ${held} bots)`);
      const goalMs = leaseTtlMs(env) + TAKEOVER_MARGIN_MS;
      // Taken over: no lease left with the dead worker and every bot connected again.
      const after = (async () => {
        const done = await waitUntil(
          async () => {
            const [row] = await env.probe.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM lark_installation WHERE status = 'active' AND (ws_lease_token IS NULL OR starts_with(ws_lease_token, $1))`,
              [victim.nodeId],
            );
            return row.n === 0 && (await env.connections()).every((n) => n >= 1);
          },
          goalMs + 60_000,
          200,
        );
        const ms = done ? Date.now() - killedAt : null;
        return { notes: [], takeover: { ms, goalMs, detail: `${held} of ${env.bots.length} bots` } };
      })();
      return { endedAt: killedAt, notes: [`killed worker ${victim.label}, which held ${held} of ${env.bots.length} bots`], after };
    },
  },
  {
    name: 'pg-terminate',
    summary: "pg_terminate_backend of every worker connection (pool, listener, job queue)",
    async inject({ env }) {
      const rows = await env.probe.query<{ app: string; n: number }>(
        `SELECT coalesce(nullif(application_name, ''), '(unnamed)') AS app, count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n
         FROM pg_stat_activity
         WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name <> $2
         GROUP BY 1 ORDER BY 1`,
        [env.dbName, PROBE_APP_NAME],
      );
      const endedAt = Date.now();
      const total = rows.reduce((s, r) => s + r.n, 0);
      return { endedAt, notes: [`terminated ${total} connections (${rows.map((r) => `${r.app} ${r.n}`).join(', ') || 'none found'})`] };
    },
  },
  {
    name: 'pg-restart',
    summary: 'stop the PostgreSQL server and start it again on the same data directory and port',
    needsOwnServer: true,
    async inject({ env, sizes }) {
      if (!env.server.restart) throw new Error('this database server cannot be restarted by the suite');
      const started = Date.now();
      await env.server.restart(sizes.databaseDownMs);
      const endedAt = Date.now();
      return { endedAt, notes: [`server down for ${seconds(endedAt - started)} (stop, ${seconds(sizes.databaseDownMs)} down, start)`] };
    },
  },
  {
    name: 'lark-5xx',
    summary: "Lark's open API answers HTTP 500, then 503, to every call",
    inject: (ctx) =>
      storm(ctx, [
        { kind: 'rest_error', path: '/open-apis/', code: 1, http_status: 500, msg: 'internal error', count: -1 },
        { kind: 'rest_error', path: '/open-apis/', code: 1, http_status: 503, msg: 'service unavailable', count: -1 },
      ]),
  },
  {
    name: 'lark-timeout',
    summary: "message sends hang past the product's HTTP timeout (the send still happens, late)",
    inject: (ctx) =>
      storm(ctx, [{ kind: 'rest_delay', path: MESSAGES_PATH, ms: (ctx.env.workerConfig?.LARK_HTTP_TIMEOUT_MS ?? 10_000) + 5_000, count: -1 }]),
  },
  {
    name: 'lark-rate-limit',
    summary: 'a storm of 230020 (too many messages) on every send',
    inject: (ctx) =>
      storm(ctx, [{ kind: 'rest_error', path: MESSAGES_PATH, code: 230020, http_status: 400, msg: 'The request you send is too frequent', count: -1 }]),
  },
  {
    name: 'ws-drop',
    summary: 'the event WebSockets of every bot are dropped, three times 2 s apart',
    async inject({ env }) {
      const times = 3;
      let affected = 0;
      for (let i = 0; i < times; i++) {
        if (i > 0) await sleep(2000);
        affected += (await env.sim.control.addFault({ kind: 'drop_connections' })).affected ?? 0;
      }
      await env.sim.control.clearFaults();
      return { endedAt: Date.now(), notes: [`${affected} connections dropped in ${times} rounds`] };
    },
  },
  {
    name: 'ws-silent',
    summary: 'the event WebSockets of every bot go silent (half-open: open, but nothing comes through)',
    async inject({ env }) {
      const { affected } = await env.sim.control.addFault({ kind: 'silent_connection' });
      return { endedAt: Date.now(), notes: [`${affected ?? 0} connections silenced (Lark's PingInterval 120 s)`] };
    },
  },
  {
    name: 'worker-race',
    summary: 'two workers started at the same moment race for the same bots, with DMs already waiting',
    startsWorkers: true,
    async inject({ env, sizes }) {
      const started = Date.now();
      const workers = await env.startWorkers(['a', 'b']);
      // A worker that crashed on the way up is counted as a crash; the race is over once the rest are serving.
      const up = await waitUntil(
        async () => {
          const alive = workers.filter((w) => w.crash === null);
          if (alive.length === 0) return false;
          return (await Promise.all(alive.map((w) => env.ready(w)))).every(Boolean) && (await env.connections()).every((n) => n >= 1);
        },
        sizes.startTimeoutMs,
        250,
      );
      const endedAt = Date.now();
      const leases = await env.leasesByWorker();
      return {
        endedAt,
        notes: [
          `${up ? 'every live worker ready and every bot connected' : 'NOT every worker ready and every bot connected'} ${seconds(endedAt - started)} after the spawn; leases ${workers.map((w) => `${w.label} ${leases.get(w.nodeId) ?? 0}`).join(', ')}`,
        ],
      };
    },
  },
  {
    name: 'poison-event',
    summary: 'a 120,000-character text (Lark allows 150 KB) into one chat',
    async inject({ env, traffic }) {
      const poison = await traffic.send(env.bots[0], 'poison', 120_000);
      if (!poison) throw new Error(`the simulator refused the poison message: ${traffic.lastSendError}`);
      const endedAt = Date.now();
      const after = (async () => {
        // The verdict on the poison itself, once the simulator settled it.
        let status = 'unknown';
        await waitUntil(
          async () => {
            const d = (await env.sim.control.deliveries(poison.bot.appId)).find((x) => x.im_message_id === poison.larkMessageId);
            status = d ? `${d.status} after ${d.attempts} send(s), ACK codes ${d.acks.map((a) => a.code).join('/') || 'none'}` : 'not found';
            return d !== undefined && d.status !== 'pending';
          },
          30_000,
          500,
        );
        return { notes: [`poison delivery: ${status}`] };
      })();
      return { endedAt, notes: [], after };
    },
  },
];

export function findScenarios(names: string[]): Scenario[] {
  if (names.length === 0) return SCENARIOS;
  return names.map((name) => {
    const found = SCENARIOS.find((s) => s.name === name);
    if (!found) throw new Error(`unknown scenario "${name}"; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
    return found;
  });
}
