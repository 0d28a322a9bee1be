import type { Logger } from 'pino';
import { createDb, createPool, type Db } from '../server/db/client';
import type { Env } from '../server/env';
import pg from 'pg';
import { createJobQueue, MAINTENANCE_QUEUE, OUTBOX_QUEUE, OUTBOX_WAKE_CHANNEL } from '../server/jobs/queue';
import type { FetchLike } from '../server/lark/api';
import { dispatchInboundEvent, type DispatchResult } from '../server/lark/inbound/dispatcher';
import { parkInboundEvent } from '../server/lark/inbound/backlog';
import { runBacklogProcessor } from './lark/backlog-processor';
import type { LarkIntegration } from '../server/lark/integration';
import { LarkHub, hubConfigFromEnv, type HubConfig } from './lark/hub/hub';
import { backfillBotUnionIds, purgeExpiredBindingTokens, purgeInboundDedup } from './lark/maintenance';
import { deliverOutboxRow } from './lark/outbox-deliverer';
import { runRegistrationPoller } from './lark/registration-poller';
import { larkTaskHooks, type TaskHooks } from './lark/task-hooks';
import { createWorkerMetrics, type WorkerMetrics } from './ops/metrics';
import { startOpsServer } from './ops/ops-server';
import { runTaskRunner } from './task-runner';
import { ConcurrencyGate } from './concurrency-gate';

/** Deliverer loops and their batch size: together they bound outbox sends in flight per worker. */
const OUTBOX_DELIVERERS = 4;
const OUTBOX_BATCH = 10;
/** How long an event may wait for a dispatch slot before it is parked in the backlog instead. */
const DISPATCH_QUEUE_WAIT_MS = 250;
/** Waiting and dispatching together stay inside this, well before the connector's own ACK deadline. */
const DISPATCH_TOTAL_BUDGET_MS = 2000;
const DISPATCH_MIN_BUDGET_MS = 300;
/** Parked events were already ACKed: their dispatch has no 3 s deadline, only a generous bound. */
const BACKLOG_DISPATCH_BUDGET_MS = 15_000;

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
};

export type RunningWorker = {
  db: Db;
  hub: LarkHub | null;
  metrics: WorkerMetrics;
  opsPort: number;
  /** Stops every loop (bounded) and closes the pool. */
  stop(): Promise<void>;
  /** Resolves when every loop has ended. */
  done: Promise<void>;
};

/** Everything the worker process runs, composed once for `npm run worker` and for tests. */
export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  const { config, integration, logger: log } = opts;
  const pool = createPool(config.DATABASE_URL, config.WORKER_CONCURRENCY + 20);
  const db = createDb(pool);
  const shutdown = new AbortController();
  const metrics = createWorkerMetrics();
  const loops: Array<Promise<void>> = [];
  let hooks: TaskHooks | undefined;
  let jobQueue: ReturnType<typeof createJobQueue> | undefined;
  let hub: LarkHub | null = null;
  let outboxListener: pg.Client | null = null;
  const dispatchGate = new ConcurrencyGate(config.LARK_DISPATCH_CONCURRENCY);
  const backlog = { active: false };

  if (integration.configured) {
    jobQueue = createJobQueue({ databaseUrl: config.DATABASE_URL });
    await jobQueue.start();
    const jobs = jobQueue.enqueuer;
    hooks = larkTaskHooks(jobs);
    const outboxLog = log.child({ loop: 'lark-outbox' });
    const boss = jobQueue.boss;
    // Several deliverer loops, so one slow send does not hold up the next batch.
    const deliverers: string[] = [];
    for (let i = 0; i < OUTBOX_DELIVERERS; i++) {
      const id: string = await boss.work<{ outboxId: string }>(OUTBOX_QUEUE, { batchSize: OUTBOX_BATCH, pollingIntervalSeconds: 0.5 }, async (batch) => {
        // A full batch means more is waiting: fetch again without the poll delay.
        if (batch.length === OUTBOX_BATCH) boss.notifyWorker(id);
        await Promise.all(
        batch.map((job) =>
          deliverOutboxRow(
            {
              db,
              integration,
              jobs,
              logger: outboxLog,
              appUrl: config.APP_URL,
              fetch: opts.fetch,
              onResult: (result, sentAfterMs) => {
                metrics.outboxDeliveries.inc({ result });
                if (sentAfterMs !== undefined) metrics.outboxDeliveryLatency.observe(sentAfterMs / 1000);
              },
            },
            job.data.outboxId,
          ),
        ),
      );
      });
      deliverers.push(id);
    }
    outboxListener = new pg.Client({ connectionString: config.DATABASE_URL });
    outboxListener.on('notification', () => deliverers.forEach((id) => boss.notifyWorker(id)));
    outboxListener.on('error', (err) => !shutdown.signal.aborted && outboxLog.warn({ err: err.message }, 'outbox listener lost its connection; polling continues'));
    await outboxListener
      .connect()
      .then(() => outboxListener!.query(`LISTEN ${OUTBOX_WAKE_CHANNEL}`))
      .catch((err) => outboxLog.warn({ err: (err as Error).message }, 'could not listen for outbox jobs'));
    const maintenanceLog = log.child({ loop: 'lark-maintenance' });
    const runMaintenance = async () => {
      const dedup = await purgeInboundDedup(db);
      const tokens = await purgeExpiredBindingTokens(db);
      const unionIds = await backfillBotUnionIds({ db, integration, logger: maintenanceLog, fetch: opts.fetch });
      maintenanceLog.info({ dedup, tokens, unionIds }, 'lark maintenance done');
    };
    await jobQueue.boss.work(MAINTENANCE_QUEUE, { pollingIntervalSeconds: 5 }, runMaintenance);
    await jobQueue.boss.schedule(MAINTENANCE_QUEUE, '*/15 * * * *');
    // Once at start too, off the hot path.
    void runMaintenance().catch((err) => maintenanceLog.warn({ err: (err as Error).message }, 'startup maintenance failed'));

    const dispatchLog = log.child({ loop: 'lark-dispatch' });
    hub = new LarkHub({
      db,
      databaseUrl: config.DATABASE_URL,
      nodeId: opts.nodeId,
      integration,
      logger: log.child({ loop: 'lark-hub' }),
      config: { ...hubConfigFromEnv(config), ...opts.hubConfig },
      onAck: (ack) => {
        metrics.acks.inc({ code: String(ack.code) });
        metrics.ackLatency.observe(ack.bizRtMs / 1000);
      },
      route: async (installation, delivery) => {
        if (delivery.frameType !== 'event') return 'ignored';
        metrics.eventsReceived.inc();
        // Past a bounded number of dispatches in flight (or while older events are parked, to keep
        // their order), the event is stored durably and ACKed; the backlog processor dispatches it.
        const queuedAt = Date.now();
        const slot = backlog.active ? null : await dispatchGate.acquire(DISPATCH_QUEUE_WAIT_MS);
        if (!slot) {
          try {
            await parkInboundEvent(db, { installationId: installation.id, appId: installation.appId, payload: Buffer.from(delivery.payload).toString('utf8') });
          } catch (err) {
            dispatchLog.error({ err: (err as Error).message, installationId: installation.id }, 'could not park an event; asking Lark to redeliver');
            return 'retry';
          }
          backlog.active = true;
          metrics.dispatchOutcomes.inc({ outcome: 'parked' });
          return 'ok';
        }
        let dispatched;
        try {
          dispatched = await dispatchInboundEvent(
            {
              db,
              jobs,
              logger: dispatchLog,
              appUrl: config.APP_URL,
              budgetMs: opts.dispatchBudgetMs ?? Math.max(DISPATCH_MIN_BUDGET_MS, DISPATCH_TOTAL_BUDGET_MS - (Date.now() - queuedAt)),
            },
            { appId: installation.appId, payload: delivery.payload },
          );
        } finally {
          slot.release();
        }
        recordDispatch(dispatched);
        return dispatched.ack === 200 ? 'ok' : 'retry';
      },
    });
    const recordDispatch = (dispatched: DispatchResult) => {
      metrics.dispatchOutcomes.inc({ outcome: dispatched.result.outcome });
      if (dispatched.result.outcome === 'dropped') metrics.dispatchDrops.inc({ reason: dispatched.result.reason });
    };
    loops.push(
      runBacklogProcessor(
        {
          db,
          databaseUrl: config.DATABASE_URL,
          gate: dispatchGate,
          logger: dispatchLog,
          state: backlog,
          dispatch: async (event) => {
            const dispatched = await dispatchInboundEvent(
              { db, jobs, logger: dispatchLog, appUrl: config.APP_URL, budgetMs: BACKLOG_DISPATCH_BUDGET_MS },
              { appId: event.appId, payload: event.payload },
            );
            recordDispatch(dispatched);
            return dispatched;
          },
        },
        shutdown.signal,
      ),
    );
    loops.push(hub.run(shutdown.signal));
    loops.push(
      runRegistrationPoller(
        { db, databaseUrl: config.DATABASE_URL, integration, logger: log.child({ loop: 'lark-registration' }), tickMs: config.LARK_REGISTRATION_TICK_MS, fetch: opts.fetch },
        shutdown.signal,
      ),
    );
  } else {
    log.info('LARK_SECRET_KEY is not set: the Lark integration is off');
  }

  loops.push(
    runTaskRunner(
      {
        db,
        databaseUrl: config.DATABASE_URL,
        workerId: opts.nodeId,
        logger: log.child({ loop: 'tasks' }),
        concurrency: config.WORKER_CONCURRENCY,
        pollIntervalMs: config.WORKER_POLL_INTERVAL_MS,
        runtimeTimeoutMs: config.AGENT_RUNTIME_TIMEOUT_MS,
        hooks,
      },
      shutdown.signal,
    ),
  );
  const ops = await startOpsServer({
    port: opts.opsPort ?? config.WORKER_PORT,
    host: config.WORKER_HOST,
    pool,
    metrics,
    readiness: () => ({ ...(integration.configured && { lark_hub: hub?.isRunning() ?? false }), task_runner: !shutdown.signal.aborted }),
    beforeScrape: async () => {
      if (hub) {
        const stats = hub.stats();
        metrics.leasesHeld.set(stats.held);
        for (const [state, count] of Object.entries(stats.states)) metrics.connections.set({ state }, count);
      }
      const outbox = await pool.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM lark_outbox GROUP BY status`);
      metrics.outboxMessages.reset();
      for (const row of outbox.rows) metrics.outboxMessages.set({ status: row.status }, row.n);
      const sessions = await pool.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM lark_registration_session GROUP BY status`);
      metrics.registrationSessions.reset();
      for (const row of sessions.rows) metrics.registrationSessions.set({ status: row.status }, row.n);
    },
  });
  const done = Promise.all(loops).then(() => undefined);
  let stopping: Promise<void> | null = null;
  return {
    db,
    hub,
    metrics,
    opsPort: ops.port,
    done,
    stop() {
      stopping ??= (async () => {
        shutdown.abort();
        await done;
        await ops.close();
        await outboxListener?.end().catch(() => {});
        await jobQueue?.stop(Math.max(1000, config.WORKER_SHUTDOWN_TIMEOUT_MS - 2000)).catch(() => {});
        await pool.end();
      })();
      return stopping;
    },
  };
}
