import type { Logger } from 'pino';
import { runTaskRunner } from '../server/agent-runs/task-runner';
import { parseEndpointAllowlist } from '../server/net/endpoint-allowlist';
import { createGuardedFetch } from '../server/net/guarded-fetch';
import { countPlaintextModelKeys, sealPlaintextModelKeys } from '../server/services/agents';
import { createDb, createPool, type Db } from '../server/db/client';
import { PgListener } from '../server/db/listen';
import { SHUTDOWN_MARGIN_MS, type Env } from '../server/env';
import type { FetchLike } from '../server/lark/api';
import type { AckThread } from '../server/lark/ack-thread/client';
import { startLarkEngine, type LarkEngine } from '../server/lark/engine';
import type { LarkHub, HubConfig } from '../server/lark/hub/hub';
import type { LarkIntegration } from '../server/lark/integration';
import { createWorkerMetrics, type WorkerMetrics } from '../server/ops/metrics';
import { claimNodeIdentity, NodeHealth, releaseNodeIdentity, runNodeHeartbeat } from '../server/ops/node-registry';
import { startOpsServer } from '../server/ops/ops-server';

export type WorkerOptions = {
  config: Env;
  integration: LarkIntegration;
  nodeId: string;
  logger: Logger;
  /** Overrides for tests: hub timings and the dispatch budget. */
  hubConfig?: Partial<HubConfig>;
  dispatchBudgetMs?: number;
  fetch?: FetchLike;
  /** Port of /healthz, /readyz and /metrics; 0 picks a free one. Defaults to WORKER_PORT. */
  opsPort?: number;
  /** How often the gauges counted in the database refresh (tests); the engine's default otherwise. */
  gaugeRefreshMs?: number;
  /** The connections and the ACK path on a thread of their own (LARK_ACK_THREAD); the worker process sets it. */
  ackThread?: boolean;
};

export type RunningWorker = {
  db: Db;
  hub: LarkHub | null;
  /** The ACK thread, when the worker runs one (fault tests end it). */
  ackThread: AckThread | null;
  /** The ACK path's dispatch pool when it runs on this thread (tests take its connections). */
  dispatchDb: Db | null;
  metrics: WorkerMetrics;
  opsPort: number;
  /** Stops every loop (bounded) and closes the pool. */
  stop(): Promise<void>;
  /** Resolves when every loop has ended. */
  done: Promise<void>;
};

/** Builds and starts everything the worker process runs, for `npm run worker` and for tests. */
export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  const { config, integration, logger: log } = opts;
  const pool = createPool(config.DATABASE_URL, config.WORKER_DB_POOL_SIZE);
  const db = createDb(pool);
  // The liveness beat has a connection of its own: a busy shared pool must not make a healthy
  // worker look cut off from the database and drop its Lark connections.
  const beatPool = createPool(config.DATABASE_URL, 1);
  const beatDb = createDb(beatPool);
  // The loops that feed work (task claims and heartbeats, outbox claims) issue one statement at a
  // time each and have connections of their own: behind a pool busy with the work they started,
  // they would start the next work late, and the lateness would feed on itself.
  const claimPool = createPool(config.DATABASE_URL, 3);
  const claimDb = createDb(claimPool);
  // The ACK path has connections of its own, so a busy shared pool (hundreds of runs storing
  // answers, deliveries recording progress) never holds an ACK back.
  // On the ACK thread, the thread opens this pool itself.
  const dispatchPool = opts.ackThread ? null : createPool(config.DATABASE_URL, config.LARK_DISPATCH_DB_POOL_SIZE);
  const dispatchDb = dispatchPool ? createDb(dispatchPool) : undefined;
  // Parking relieves a full dispatch pool, so it must not queue behind it: one connection of its own.
  const parkingPool = opts.ackThread ? null : createPool(config.DATABASE_URL, 1);
  const parkingDb = parkingPool ? createDb(parkingPool) : undefined;
  const endPools = async () => {
    for (const p of [pool, beatPool, claimPool, dispatchPool, parkingPool]) await p?.end();
  };
  const listener = new PgListener({ connectionString: config.DATABASE_URL, logger: log.child({ part: 'listener' }) });
  const shutdown = new AbortController();
  const metrics = createWorkerMetrics();

  let lark: LarkEngine | null = null;
  let tasksStarted = false;
  // First, so a port conflict stops the start before anything is claimed (node identity, leases, work).
  let ops: Awaited<ReturnType<typeof startOpsServer>>;
  try {
    ops = await startOpsServer({
      port: opts.opsPort ?? config.WORKER_PORT,
      host: config.WORKER_HOST,
      pool,
      metrics,
      logger: log.child({ part: 'ops' }),
      readiness: () => ({
        ...(integration.configured && { lark_hub: lark?.isRunning() ?? false }),
        task_runner: tasksStarted && !shutdown.signal.aborted,
      }),
      beforeScrape: () => lark?.collectMetrics(),
      token: config.WORKER_OPS_TOKEN,
    });
  } catch (err) {
    await listener.close();
    await endPools();
    throw err;
  }

  let bootId: string;
  try {
    bootId = await claimNodeIdentity(db, { nodeId: opts.nodeId, logger: log });
  } catch (err) {
    await ops.close();
    await listener.close();
    await endPools();
    throw err;
  }
  // Cut off from the database for a while, this worker closes its Lark connections before any
  // sibling may count it gone and take its bots over.
  const nodeHealth = new NodeHealth();
  const nodeHeartbeat = runNodeHeartbeat(
    beatDb,
    { nodeId: opts.nodeId, bootId, logger: log, health: nodeHealth, onFenced: () => lark?.hub.dropAllConnections(), onRecovered: () => lark?.hub.requestSweep() },
    shutdown.signal,
  );

  if (integration.configured) {
    lark = await startLarkEngine(
      {
        db,
        dispatchDb,
        parkingDb,
        claimDb,
        listener,
        config,
        integration,
        nodeId: opts.nodeId,
        nodeHealth,
        logger: log,
        metrics,
        fetch: opts.fetch,
        hubConfig: opts.hubConfig,
        dispatchBudgetMs: opts.dispatchBudgetMs,
        gaugeRefreshMs: opts.gaugeRefreshMs,
        ackThread: opts.ackThread,
      },
      shutdown.signal,
    );
  } else {
    log.info('LARK_SECRET_KEY is not set: the Lark integration is off');
  }

  await sealStoredModelKeys(db, integration, log);
  const agentFetch = createGuardedFetch({ allowlist: parseEndpointAllowlist(config.AGENT_ENDPOINT_ALLOWLIST) });
  const tasks = runTaskRunner(
    {
      db,
      claimDb,
      listener,
      workerId: opts.nodeId,
      logger: log.child({ loop: 'tasks' }),
      concurrency: config.WORKER_CONCURRENCY,
      workspaceFairShare: config.WORKER_WORKSPACE_FAIR_SHARE,
      pollIntervalMs: config.WORKER_POLL_INTERVAL_MS,
      runtimeTimeoutMs: config.AGENT_RUNTIME_TIMEOUT_MS,
      hooks: lark?.taskHooks,
      agentFetch,
      secretBox: integration.box,
      inputLimits: { inlineFileMaxBytes: config.AGENT_INLINE_FILE_MAX_BYTES },
    },
    shutdown.signal,
  );
  tasksStarted = true;
  const done = Promise.all([tasks, lark?.done, nodeHeartbeat]).then(() => undefined);
  let stopping: Promise<void> | null = null;
  return {
    db,
    hub: lark?.hub ?? null,
    ackThread: lark?.ackThread ?? null,
    dispatchDb: dispatchDb ?? null,
    metrics,
    opsPort: ops.port,
    done,
    stop() {
      // Loops first (they release leases and hand tasks back), then what they used.
      stopping ??= (async () => {
        // The job queue gets what is left before the forced exit (worker/main.ts), less the margin.
        const stopBy = Date.now() + config.WORKER_SHUTDOWN_TIMEOUT_MS - SHUTDOWN_MARGIN_MS;
        shutdown.abort();
        await done;
        await ops.close();
        await releaseNodeIdentity(db, { nodeId: opts.nodeId, bootId }).catch((err) => log.warn({ err }, 'could not release the node identity; a successor waits for it to go stale'));
        await listener.close();
        await lark?.close(Math.max(500, stopBy - Date.now())).catch((err) => log.warn({ err }, 'job queue did not stop cleanly'));
        await agentFetch.close().catch(() => undefined);
        await endPools();
      })();
      return stopping;
    },
  };
}

/** Model keys written by earlier versions in plaintext are sealed once, at start; a failure only delays it. */
async function sealStoredModelKeys(db: Db, integration: LarkIntegration, log: Logger): Promise<void> {
  try {
    if (integration.box) {
      const { sealed, skipped } = await sealPlaintextModelKeys(db, integration.box);
      if (sealed > 0) log.info({ sealed }, 'sealed model API keys stored in plaintext');
      if (skipped > 0) log.warn({ skipped }, 'some plaintext model API keys could not be sealed (invalid base URL); an admin should enter them again');
      return;
    }
    const plaintext = await countPlaintextModelKeys(db);
    if (plaintext > 0) log.warn({ agents: plaintext }, 'model API keys are stored in plaintext: set LARK_SECRET_KEY so the worker seals them at its next start');
  } catch (err) {
    log.warn({ err }, 'could not seal stored model API keys; the next start tries again');
  }
}
