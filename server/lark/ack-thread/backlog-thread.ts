// The backlog thread: dispatches the events the ACK thread parked, oldest first, on an event loop
// of its own. A burst parks hundreds of events a second; their dispatches kept the ACK thread's
// loop busy, and every new frame and ACK waited behind them. Here they wait for the operating
// system's scheduler instead, which serves the lightly loaded ACK thread first. Started by
// ack-thread/backlog-client.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { createDb, createPool } from '../../db/client';
import { PgListener } from '../../db/listen';
import { createLogger } from '../../logger';
import { runBacklogDispatch } from '../inbound/ingress';
import { CounterBatch } from './counters';
import type { BacklogThreadData, FromBacklogThread, ToBacklogThread } from './messages';

const METRICS_REPORT_MS = 100;

if (!parentPort) throw new Error('ack-thread/backlog-thread.ts runs as a worker thread');
const port = parentPort;
const data = workerData as BacklogThreadData;
const log = createLogger(undefined, data.logLevel).child({ part: 'backlog-thread' });
const post = (message: FromBacklogThread) => port.postMessage(message);

const pool = createPool(data.databaseUrl, data.poolSize);
const db = createDb(pool);
const listener = new PgListener({ connectionString: data.databaseUrl, logger: log.child({ part: 'listener' }) });

let reportTimer: NodeJS.Timeout | undefined;
const counters = new CounterBatch(() => {
  reportTimer ??= setTimeout(report, METRICS_REPORT_MS);
});
function report() {
  reportTimer = undefined;
  if (!counters.empty) post({ type: 'metrics', counters: counters.take() });
}

// Dispatched ids go out once per turn of the loop, so the ACK thread stops queueing behind them soon.
let unparked: number[] = [];
let unparkedFlush: NodeJS.Immediate | undefined;
function flushUnparked() {
  unparkedFlush = undefined;
  if (unparked.length === 0) return;
  post({ type: 'unparked', ids: unparked });
  unparked = [];
}

const shutdown = new AbortController();
const backlog = runBacklogDispatch(
  {
    db,
    listener,
    logger: log.child({ loop: 'lark-backlog' }),
    appUrl: data.appUrl,
    metrics: counters.ingressMetrics(),
    concurrency: data.concurrency,
    nodeId: data.nodeId,
    onDispatched: (id) => {
      unparked.push(id);
      unparkedFlush ??= setImmediate(flushUnparked);
    },
  },
  shutdown.signal,
);

async function stop(): Promise<void> {
  shutdown.abort();
  await backlog.catch((err: unknown) => log.error({ err }, 'the backlog processor failed'));
  if (reportTimer) clearTimeout(reportTimer);
  report();
  if (unparkedFlush) clearImmediate(unparkedFlush);
  flushUnparked();
  await listener.close().catch((err) => log.warn({ err }, 'closing the listener failed'));
  await pool.end().catch((err) => log.warn({ err }, 'closing the backlog pool failed'));
  post({ type: 'stopped' });
}

port.on('message', (message: ToBacklogThread) => {
  if (message.type === 'stop') void stop();
});
post({ type: 'ready' });
