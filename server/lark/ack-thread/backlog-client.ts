import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { WorkerMetrics } from '../../ops/metrics';
import { threadExecArgv } from './client';
import { addCounters } from './counters';
import type { BacklogThreadData, FromBacklogThread, ToBacklogThread } from './messages';

/** A backlog thread that died is replaced after this long; its held events come back when their holds run out. */
const RESTART_DELAY_MS = 1000;

export type BacklogThreadOptions = {
  data: Omit<BacklogThreadData, 'role'>;
  logger: Logger;
  metrics: Pick<WorkerMetrics, 'eventsReceived' | 'dispatchOutcomes' | 'dispatchDrops'>;
  /** Parked events the thread dispatched (the ACK thread stops queueing behind them). */
  onUnparked: (ids: number[]) => void;
};

export type BacklogThread = {
  /** Starts the thread and resolves once it has loaded (or failed to: it is started again shortly). */
  start(): Promise<void>;
  /** Ends the thread's processor (dispatches in flight finish), then the thread (terminated after `timeoutMs`). */
  stop(timeoutMs: number): Promise<void>;
  /** Ends the thread at once, as a crash would (fault tests); a new one takes its place. */
  kill(): Promise<void>;
};

const threadUrl = new URL('./thread-entry.mjs', import.meta.url);

/** Runs the backlog's dispatch (ack-thread/backlog-thread.ts) on a thread of its own, replaced when it dies. */
export function createBacklogThread(opts: BacklogThreadOptions): BacklogThread {
  const log = opts.logger.child({ part: 'backlog-thread' });
  let thread: Worker | null = null;
  let stopping: Promise<void> | null = null;
  let restartTimer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | null = null;
  let onStopped: (() => void) | null = null;

  const scheduleRestart = () => {
    restartTimer ??= setTimeout(() => {
      restartTimer = undefined;
      if (!stopping) spawn();
    }, RESTART_DELAY_MS);
  };

  function spawn(): void {
    let worker: Worker;
    try {
      worker = new Worker(threadUrl, { workerData: { role: 'backlog', ...opts.data } satisfies BacklogThreadData, execArgv: threadExecArgv(process.execArgv) });
    } catch (err) {
      log.error({ err }, 'the backlog thread could not start');
      onReady?.();
      scheduleRestart();
      return;
    }
    thread = worker;
    worker.on('message', (message: FromBacklogThread) => {
      if (message.type === 'metrics') addCounters(opts.metrics, message.counters);
      else if (message.type === 'unparked') opts.onUnparked(message.ids);
      else if (message.type === 'ready') onReady?.();
      else if (message.type === 'stopped') onStopped?.();
    });
    worker.on('error', (err) => log.error({ err }, 'the backlog thread failed'));
    worker.on('exit', (code) => {
      if (thread === worker) thread = null;
      onReady?.();
      onStopped?.();
      if (stopping) return;
      log.error({ code }, 'the backlog thread exited; a new one takes its place');
      scheduleRestart();
    });
  }

  const send = (worker: Worker, message: ToBacklogThread) => worker.postMessage(message);

  return {
    start() {
      if (stopping || thread) return Promise.resolve();
      const ready = new Promise<void>((resolve) => {
        onReady = () => {
          onReady = null;
          resolve();
        };
      });
      spawn();
      return ready;
    },
    async kill() {
      await thread?.terminate();
    },
    stop(timeoutMs) {
      stopping ??= (async () => {
        clearTimeout(restartTimer);
        const worker = thread;
        if (!worker) return;
        const ended = new Promise<void>((resolve) => {
          onStopped = resolve;
        });
        send(worker, { type: 'stop' });
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            log.warn({ timeoutMs }, 'the backlog thread did not stop in time; terminating it');
            resolve();
          }, timeoutMs);
        });
        await Promise.race([ended, late]);
        clearTimeout(timer);
        await worker.terminate();
      })();
      return stopping;
    },
  };
}
