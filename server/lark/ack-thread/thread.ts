// The ACK thread: the Lark connections' sockets, the dispatcher and the backlog, on an event loop of
// their own. The worker's main loop carries hundreds of agent runs and deliveries; here an event's
// frame, its two statements and its ACK never wait behind them. Started by ack-thread/client.ts.
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { createDb, createPool } from '../../db/client';
import { PgListener } from '../../db/listen';
import { createLogger } from '../../logger';
import { pooledFetch } from '../api/pooled-fetch';
import { BOOTSTRAP_CONNECTIONS } from '../hub/hub';
import { createIngress, type IngressMetrics } from '../inbound/ingress';
import { runConnector, type ConnectorExit } from '../protocol/connector';
import type { AckCount, AckThreadData, FromAckThread, MetricName, ToAckThread, WireExit } from './messages';

/** Counters and ACKs are reported in batches: one message per interval, not three per event. */
const METRICS_REPORT_MS = 100;
/** How often the loop's busy time is reported. */
const BUSY_REPORT_MS = 1000;

if (!parentPort) throw new Error('ack-thread/thread.ts runs as a worker thread');
const port = parentPort;
const data = workerData as AckThreadData;
const log = createLogger(undefined, data.logLevel).child({ part: 'ack-thread' });
const post = (message: FromAckThread) => port.postMessage(message);

const pool = createPool(data.databaseUrl, data.poolSize);
const db = createDb(pool);
// Parking is what relieves a full pool: its statement (one at a time, for every event parked
// meanwhile) has a connection of its own instead of queueing behind the dispatches.
const parkingPool = createPool(data.databaseUrl, 1);
const parkingDb = createDb(parkingPool);
const listener = new PgListener({ connectionString: data.databaseUrl, logger: log.child({ part: 'listener' }) });
const bootstrap = pooledFetch(BOOTSTRAP_CONNECTIONS);

const counters = new Map<string, [MetricName, string, number]>();
let acks: AckCount[] = [];
let reportTimer: NodeJS.Timeout | undefined;
const report = () => {
  reportTimer = undefined;
  if (counters.size === 0 && acks.length === 0) return;
  post({ type: 'metrics', counters: [...counters.values()], acks });
  counters.clear();
  acks = [];
};
const count = (name: MetricName, label: string) => {
  const key = `${name}\u0000${label}`;
  const entry = counters.get(key);
  if (entry) entry[2] += 1;
  else counters.set(key, [name, label, 1]);
  reportTimer ??= setTimeout(report, METRICS_REPORT_MS);
};
const metrics: IngressMetrics = {
  eventsReceived: { inc: () => count('eventsReceived', '') },
  dispatchOutcomes: { inc: ({ outcome }) => count('dispatchOutcomes', outcome) },
  dispatchDrops: { inc: ({ reason }) => count('dispatchDrops', reason) },
};

const shutdown = new AbortController();
const ingress = createIngress({
  db,
  parkingDb,
  listener,
  logger: log.child({ loop: 'lark-dispatch' }),
  appUrl: data.appUrl,
  metrics,
  concurrency: data.concurrency,
  dispatchBudgetMs: data.dispatchBudgetMs,
  nodeId: data.nodeId,
});
const backlog = ingress.runBacklog(shutdown.signal);
const connections = new Map<number, AbortController>();
const running = new Set<Promise<void>>();

function wireExit(exit: ConnectorExit): WireExit {
  if (exit.reason !== 'bootstrap_failed') return exit;
  const { error, ...rest } = exit;
  return { ...rest, error: { code: error.code, kind: error.kind, httpStatus: error.httpStatus, message: error.message } };
}

function connect(message: Extract<ToAckThread, { type: 'connect' }>): void {
  const { id, installation } = message;
  const controller = new AbortController();
  connections.set(id, controller);
  let pendingEvents = 0;
  let lastEventAt = 0;
  let eventsTimer: NodeJS.Timeout | undefined;
  const flushEvents = () => {
    eventsTimer = undefined;
    post({ type: 'events', id, count: pendingEvents, lastEventAt });
    pendingEvents = 0;
  };
  const done = runConnector(
    {
      appId: installation.appId,
      appSecret: message.appSecret,
      openBaseUrl: message.openBaseUrl,
      handler: (delivery) => {
        pendingEvents += 1;
        lastEventAt = Date.now();
        eventsTimer ??= setTimeout(flushEvents, METRICS_REPORT_MS);
        return ingress.route(installation, delivery);
      },
      onStatus: (status) => post({ type: 'status', id, status }),
      onAck: (ack) => {
        acks.push({ code: ack.code, bizRtMs: ack.bizRtMs });
        reportTimer ??= setTimeout(report, METRICS_REPORT_MS);
      },
      logger: log,
      installationId: installation.id,
      fetch: bootstrap.fetch,
    },
    controller.signal,
  ).then(
    (exit) => {
      if (eventsTimer) {
        clearTimeout(eventsTimer);
        flushEvents();
      }
      post({ type: 'exit', id, exit: wireExit(exit) });
    },
    (err: unknown) => {
      log.error({ err, installationId: installation.id }, 'the lark connection failed');
      post({ type: 'failed', id, message: 'the connection failed in the ACK thread' });
    },
  );
  const tracked = done.finally(() => {
    connections.delete(id);
    running.delete(tracked);
  });
  running.add(tracked);
}

async function stop(): Promise<void> {
  shutdown.abort();
  for (const controller of connections.values()) controller.abort();
  await Promise.allSettled([...running, backlog]);
  if (reportTimer) clearTimeout(reportTimer);
  report();
  await listener.close().catch((err) => log.warn({ err }, 'closing the listener failed'));
  await bootstrap.close().catch(() => undefined);
  await pool.end().catch((err) => log.warn({ err }, 'closing the dispatch pool failed'));
  await parkingPool.end().catch((err) => log.warn({ err }, 'closing the parking connection failed'));
  post({ type: 'stopped' });
}

// How busy this loop is: the measure of whether frames and ACKs wait behind other work here.
let loopBefore = performance.eventLoopUtilization();
setInterval(() => {
  const now = performance.eventLoopUtilization();
  post({ type: 'busy', ms: performance.eventLoopUtilization(now, loopBefore).active });
  loopBefore = now;
}, BUSY_REPORT_MS).unref();

port.on('message', (message: ToAckThread) => {
  if (message.type === 'connect') connect(message);
  else if (message.type === 'abort') connections.get(message.id)?.abort();
  else if (message.type === 'stop') void stop();
});
post({ type: 'ready' });
