import type { Logger } from 'pino';
import { sleep } from '../async/abortable';
import type { Db } from '../db/client';
import type { PgListener } from '../db/listen';
import type { Env } from '../env';
import { createJobQueue, MAINTENANCE_QUEUE, RETENTION_QUEUE } from '../jobs/queue';
import type { WorkerMetrics } from '../ops/metrics';
import type { FetchLike } from './api';
import { pooledFetch } from './api/pooled-fetch';
import { createAckThread, type AckThread } from './ack-thread/client';
import { LarkHub, hubConfigFromEnv, type HubConfig, type HubOptions } from './hub/hub';
import type { AckCount } from './ack-thread/messages';
import { runChatNameFetcher } from './inbound/chat-names';
import { createIngress } from './inbound/ingress';
import { countRegistrationSessionsByStatus } from './install/registration-sessions';
import { runRegistrationPoller } from './install/registration-poller';
import type { LarkIntegration } from './integration';
import { runLarkMaintenance, runLarkRetention } from './maintenance';
import { runOutboxDeliverer } from './outbound/deliver';
import { countOutboxByStatus } from './outbound/outbox';
import { larkTaskHooks, type TaskHooks } from './outbound/task-hooks';
import { postgresAttachmentStore } from '../attachments/store';

/** Outbox sends in flight per worker: each waits on Lark (a streamed answer closes its card and takes its reaction off), so many fit; Lark's own rate limits answer with a retry. */
const OUTBOX_SENDS_IN_FLIGHT = 512;
/** How often an idle deliverer looks for scheduled retries and rows whose sender died; new rows wake it at once. */
const OUTBOX_POLL_MS = 1_000;
const MAINTENANCE_CRON = '*/15 * * * *';
// Hourly, off the quarter hours the maintenance pass runs on.
const RETENTION_CRON = '7 * * * *';
/** How long the ACK thread may take to end its backlog and pool before it is terminated. */
const ACK_THREAD_STOP_TIMEOUT_MS = 3_000;
/** How often the gauges counted in the database are refreshed: a scrape serves the last values, so N scrapes cost no query. */
export const DB_GAUGE_REFRESH_MS = 30_000;

export type LarkEngineOptions = {
  db: Db;
  /** The ACK path's connections (dispatch and the backlog); the shared pool when not given. */
  dispatchDb?: Db;
  /** The ACK path's parking connection, apart from the dispatch pool it relieves; `dispatchDb` when not given. */
  parkingDb?: Db;
  /** Outbox claims (see runOutboxDeliverer); the shared pool when not given. */
  claimDb?: Db;
  listener: PgListener;
  config: Env;
  integration: LarkIntegration;
  nodeId: string;
  logger: Logger;
  metrics: WorkerMetrics;
  fetch?: FetchLike;
  /** The worker's own heartbeat, for the hub's leases (see NodeHealth). */
  nodeHealth?: HubOptions['nodeHealth'];
  /** Overrides for tests: hub timings and the ACK-path dispatch budget. */
  hubConfig?: Partial<HubConfig>;
  dispatchBudgetMs?: number;
  /** Overrides how often a streaming answer pushes its text to the card (tests). */
  streamFlushMs?: number;
  /** Overrides DB_GAUGE_REFRESH_MS (tests). */
  gaugeRefreshMs?: number;
  /**
   * Runs the connections and the ACK path (dispatch, parking, the backlog) on a thread of their own
   * with their own pool (ack-thread/); otherwise they run on the calling thread with `dispatchDb`.
   */
  ackThread?: boolean;
};

export type LarkEngine = {
  hub: LarkHub;
  /** The thread the connections and the ACK path run on, when they do (`ackThread`). */
  ackThread: AckThread | null;
  /** Writes that commit with an agent task's outcome: its answer to Lark. */
  taskHooks: TaskHooks;
  /** Resolves when every loop has ended (after the signal aborted). */
  done: Promise<void>;
  isRunning(): boolean;
  /** Copies the hub's in-memory state into gauges at scrape time; the database gauges refresh on their own timer. */
  collectMetrics(): void;
  /** After `done`: stops the job queue within the deadline. */
  close(timeoutMs: number): Promise<void>;
};

/**
 * Starts the worker side of the Lark integration, in pipeline order: outbound delivery first (so
 * nothing decided is left unsent), then the hub whose connections feed ingress, then the backlog,
 * the registration poller and maintenance.
 */
export async function startLarkEngine(opts: LarkEngineOptions, signal: AbortSignal): Promise<LarkEngine> {
  const { db, listener, config, integration, metrics, logger: log } = opts;
  const jobQueue = createJobQueue({ databaseUrl: config.DATABASE_URL, logger: log.child({ part: 'jobs' }) });
  await jobQueue.start();
  const { boss } = jobQueue;
  const loops: Array<Promise<void>> = [];

  const outboxLog = log.child({ loop: 'lark-outbox' });
  // Sends to Lark go over a keep-alive pool as large as the sends in flight (tests inject their own fetch).
  const outboxHttp = opts.fetch ? null : pooledFetch(OUTBOX_SENDS_IN_FLIGHT);
  loops.push(
    runOutboxDeliverer(
      {
        db,
        claimDb: opts.claimDb,
        listener,
        integration,
        logger: outboxLog,
        appUrl: config.APP_URL,
        fetch: opts.fetch ?? outboxHttp!.fetch,
        maxInFlight: OUTBOX_SENDS_IN_FLIGHT,
        pollIntervalMs: OUTBOX_POLL_MS,
        onResult: (result, sentAfterMs) => {
          metrics.outboxDeliveries.inc({ result });
          if (sentAfterMs !== undefined) metrics.outboxDeliveryLatency.observe(sentAfterMs / 1000);
        },
      },
      signal,
    ),
  );

  const maintenanceLog = log.child({ loop: 'lark-maintenance' });
  const maintain = () => runLarkMaintenance({ db, integration, logger: maintenanceLog, fetch: opts.fetch });
  await boss.work(MAINTENANCE_QUEUE, { pollingIntervalSeconds: 5 }, maintain);
  await boss.schedule(MAINTENANCE_QUEUE, MAINTENANCE_CRON);
  // Once at start too, off the hot path; the schedule covers the next pass if this one fails.
  void maintain().catch((err) => maintenanceLog.warn({ err }, 'startup maintenance failed'));

  const retentionLog = log.child({ loop: 'lark-retention' });
  await boss.work(RETENTION_QUEUE, { pollingIntervalSeconds: 10 }, () =>
    runLarkRetention({ db, logger: retentionLog, outboxDays: config.LARK_OUTBOX_RETENTION_DAYS, auditDays: config.LARK_AUDIT_RETENTION_DAYS }),
  );
  await boss.schedule(RETENTION_QUEUE, RETENTION_CRON);

  loops.push(runDbGaugeRefresher({ db, metrics, logger: log.child({ loop: 'metrics' }), intervalMs: opts.gaugeRefreshMs ?? DB_GAUGE_REFRESH_MS }, signal));

  const recordAck = (ack: AckCount) => {
    metrics.acks.inc({ code: String(ack.code) });
    metrics.ackLatency.observe(ack.bizRtMs / 1000);
  };
  const hubOptions = {
    db,
    listener,
    nodeId: opts.nodeId,
    integration,
    logger: log.child({ loop: 'lark-hub' }),
    config: { ...hubConfigFromEnv(config), ...opts.hubConfig },
    onAck: recordAck,
    nodeHealth: opts.nodeHealth,
  };
  let hub: LarkHub;
  let ackThread: AckThread | null = null;
  if (opts.ackThread) {
    ackThread = createAckThread({
      data: {
        databaseUrl: config.DATABASE_URL,
        poolSize: config.LARK_DISPATCH_DB_POOL_SIZE,
        logLevel: log.level,
        appUrl: config.APP_URL,
        nodeId: opts.nodeId,
        concurrency: config.LARK_DISPATCH_CONCURRENCY,
        dispatchBudgetMs: opts.dispatchBudgetMs,
      },
      logger: log,
      metrics,
      onAck: recordAck,
    });
    // Loaded before the hub connects anyone: the thread's start-up is not any bot's first event's wait.
    await ackThread.warmUp();
    hub = new LarkHub({ ...hubOptions, connect: ackThread.connect });
    // The hub has ended its connections when run() returns; the thread's backlog and pool go after
    // them. Dispatches in flight end within their 2 s budget, so the thread stops well inside the
    // worker's shutdown deadline.
    const thread = ackThread;
    loops.push(hub.run(signal).then(() => thread.stop(ACK_THREAD_STOP_TIMEOUT_MS)));
  } else {
    const ingress = createIngress({
      db: opts.dispatchDb ?? db,
      parkingDb: opts.parkingDb,
      listener,
      logger: log.child({ loop: 'lark-dispatch' }),
      appUrl: config.APP_URL,
      metrics,
      concurrency: config.LARK_DISPATCH_CONCURRENCY,
      dispatchBudgetMs: opts.dispatchBudgetMs,
      nodeId: opts.nodeId,
    });
    hub = new LarkHub({ ...hubOptions, route: ingress.route });
    loops.push(ingress.runBacklog(signal));
    loops.push(hub.run(signal));
  }
  // Group names for session titles and the drops table, looked up off the ACK path.
  loops.push(runChatNameFetcher({ db, integration, logger: log.child({ loop: 'lark-chat-names' }), fetch: opts.fetch }, signal));
  loops.push(
    runRegistrationPoller(
      { db, listener, integration, logger: log.child({ loop: 'lark-registration' }), tickMs: config.LARK_REGISTRATION_TICK_MS, fetch: opts.fetch },
      signal,
    ),
  );

  return {
    hub,
    ackThread,
    taskHooks: larkTaskHooks({
      db,
      integration,
      fetch: opts.fetch ?? outboxHttp!.fetch,
      onCardOperation: (op) => metrics.streamCardOperations.inc({ op }),
      streamFlushMs: opts.streamFlushMs,
      media: {
        store: postgresAttachmentStore,
        limits: { maxBytes: config.ATTACHMENT_MAX_BYTES, contextMessages: config.LARK_CONTEXT_MESSAGES, contextMinutes: config.LARK_CONTEXT_MINUTES },
      },
    }),
    done: Promise.all(loops).then(() => undefined),
    isRunning: () => hub.isRunning(),
    collectMetrics() {
      const stats = hub.stats();
      metrics.leasesHeld.set(stats.held);
      for (const [state, count] of Object.entries(stats.states)) metrics.connections.set({ state }, count);
    },
    async close(timeoutMs) {
      await jobQueue.stop(timeoutMs);
      await outboxHttp?.close();
    },
  };
}

/**
 * Counts outbox rows and install sessions by status every `intervalMs`. These are whole-table
 * aggregates: run per scrape, anyone who can reach /metrics could keep the database busy with them.
 * A failed refresh keeps the last values until the next one.
 */
async function runDbGaugeRefresher(deps: { db: Db; metrics: WorkerMetrics; logger: Logger; intervalMs: number }, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      const outbox = await countOutboxByStatus(deps.db);
      const sessions = await countRegistrationSessionsByStatus(deps.db);
      deps.metrics.outboxMessages.reset();
      for (const [status, n] of Object.entries(outbox)) deps.metrics.outboxMessages.set({ status }, n);
      deps.metrics.registrationSessions.reset();
      for (const [status, n] of Object.entries(sessions)) deps.metrics.registrationSessions.set({ status }, n);
    } catch (err) {
      deps.logger.warn({ err }, 'refreshing database gauges failed; keeping the last values');
    }
    await sleep(deps.intervalMs, signal);
  }
}
