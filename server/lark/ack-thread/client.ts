import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { WorkerMetrics } from '../../ops/metrics';
import type { ConnectFn, ConnectInput } from '../hub/hub';
import { DEFAULT_CLIENT_CONFIG, LarkBootstrapError } from '../protocol/bootstrap';
import type { ConnectorExit } from '../protocol/connector';
import type { AckCount, AckThreadData, FromAckThread, ToAckThread, WireExit } from './messages';

export type AckThreadOptions = {
  data: AckThreadData;
  logger: Logger;
  metrics: Pick<WorkerMetrics, 'eventsReceived' | 'dispatchOutcomes' | 'dispatchDrops' | 'ackThreadBusy'>;
  /** Every ACK the thread wrote, as the hub reports its own (metrics). */
  onAck: (ack: AckCount) => void;
};

export type AckThread = {
  /** The hub's ConnectFn: the connection, its dispatch and its ACKs run in the ACK thread. */
  connect: ConnectFn;
  /** Ends every connection and the backlog in the thread, then the thread (terminated after `timeoutMs`). */
  stop(timeoutMs: number): Promise<void>;
  /**
   * Starts the thread ahead of the first connection and resolves once it has loaded (or failed to:
   * the first connection then tries again), so no bot's first events wait for it.
   */
  warmUp(): Promise<void>;
  /** Ends the thread at once, as a crash would (fault tests); the hub reconnects into a new one. */
  kill(): Promise<void>;
};

type Pending = { input: ConnectInput; resolve: (exit: ConnectorExit) => void };

const threadUrl = new URL('./thread-entry.mjs', import.meta.url);

/**
 * The thread's Node options: it resolves imports for the server as the worker process does
 * (`server-only` among them), and is profiled when the process is. Anything else the process was
 * started with (`--inspect`, V8 flags) is the process's alone, and a thread refuses to start with it.
 */
export function threadExecArgv(processArgv: readonly string[]): string[] {
  const kept = processArgv.filter((arg) => arg.startsWith('--conditions=') || arg.startsWith('--cpu-prof'));
  return kept.includes('--conditions=react-server') ? kept : [...kept, '--conditions=react-server'];
}

function fromWire(exit: WireExit): ConnectorExit {
  if (exit.reason !== 'bootstrap_failed') return exit;
  const { error, ...rest } = exit;
  const reason = error.message.replace(/^lark ws bootstrap failed: /, '');
  return { ...rest, error: new LarkBootstrapError({ code: error.code, kind: error.kind, httpStatus: error.httpStatus, reason }) };
}

// A connection the thread could not finish (the thread died, or failed to run it): the hub reconnects after its backoff.
const lostExit = (detail: string): ConnectorExit => ({
  reason: 'dial_failed',
  retryable: true,
  detail,
  clientConfig: DEFAULT_CLIENT_CONFIG,
  connectedAt: null,
  endedAt: Date.now(),
  eventsHandled: 0,
});

/**
 * Runs the Lark connections and the ACK path on a thread of their own (ack-thread/thread.ts). The
 * thread starts with `warmUp` (or, after one died, with the next connection); one that dies ends
 * its connections as failed dials, so the hub reconnects them into a fresh thread after its usual
 * backoff.
 */
export function createAckThread(opts: AckThreadOptions): AckThread {
  const log = opts.logger.child({ part: 'ack-thread' });
  const { metrics } = opts;
  let thread: Worker | null = null;
  let stopped: Promise<void> | null = null;
  let onStopped: (() => void) | null = null;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  const readyWaiters = new Set<() => void>();
  let threadReady = false;
  const wakeReadyWaiters = () => {
    for (const resolve of readyWaiters) resolve();
    readyWaiters.clear();
  };

  const settle = (id: number, exit: ConnectorExit) => {
    const entry = pending.get(id);
    if (!entry) return;
    pending.delete(id);
    entry.resolve(exit);
  };

  const onMessage = (message: FromAckThread) => {
    switch (message.type) {
      case 'status':
        pending.get(message.id)?.input.onStatus(message.status);
        break;
      case 'events':
        pending.get(message.id)?.input.onEventsReceived?.(message.count, message.lastEventAt);
        break;
      case 'exit':
        settle(message.id, fromWire(message.exit));
        break;
      case 'failed':
        settle(message.id, lostExit(message.message));
        break;
      case 'metrics':
        for (const [name, label, count] of message.counters) {
          if (name === 'eventsReceived') metrics.eventsReceived.inc(count);
          else if (name === 'dispatchOutcomes') metrics.dispatchOutcomes.inc({ outcome: label }, count);
          else metrics.dispatchDrops.inc({ reason: label }, count);
        }
        for (const ack of message.acks) opts.onAck(ack);
        break;
      case 'busy':
        metrics.ackThreadBusy.inc(message.ms / 1000);
        break;
      case 'stopped':
        onStopped?.();
        break;
      case 'ready':
        threadReady = true;
        wakeReadyWaiters();
        break;
    }
  };

  const start = (): Worker => {
    const worker = new Worker(threadUrl, { workerData: opts.data, execArgv: threadExecArgv(process.execArgv) });
    worker.on('message', onMessage);
    worker.on('error', (err) => log.error({ err }, 'the ACK thread failed'));
    worker.on('exit', (code) => {
      if (thread === worker) {
        thread = null;
        threadReady = false;
      }
      wakeReadyWaiters();
      onStopped?.();
      if (pending.size === 0) return;
      if (!stopped) log.error({ code, connections: pending.size }, 'the ACK thread exited; its connections reconnect');
      for (const id of [...pending.keys()]) settle(id, lostExit('the ACK thread exited'));
    });
    return worker;
  };

  const send = (worker: Worker, message: ToAckThread) => worker.postMessage(message);

  /** The running thread, started when there is none; null when it cannot start (logged). */
  const ensureThread = (): Worker | null => {
    try {
      thread ??= start();
      return thread;
    } catch (err) {
      log.error({ err }, 'the ACK thread could not start');
      return null;
    }
  };

  return {
    connect(input, signal) {
      if (stopped || signal.aborted) {
        return Promise.resolve({ reason: 'aborted', clientConfig: DEFAULT_CLIENT_CONFIG, connectedAt: null, endedAt: Date.now(), eventsHandled: 0 });
      }
      const worker = ensureThread();
      // A thread that cannot start is a failed dial: the hub backs off and tries again.
      if (!worker) return Promise.resolve(lostExit('the ACK thread could not start'));
      const id = nextId++;
      return new Promise<ConnectorExit>((resolve) => {
        const onAbort = () => {
          if (thread === worker) send(worker, { type: 'abort', id });
        };
        pending.set(id, {
          input,
          resolve: (exit) => {
            signal.removeEventListener('abort', onAbort);
            resolve(exit);
          },
        });
        signal.addEventListener('abort', onAbort, { once: true });
        send(worker, { type: 'connect', id, installation: input.installation, appSecret: input.appSecret, openBaseUrl: input.openBaseUrl });
      });
    },
    warmUp() {
      if (stopped) return Promise.resolve();
      if (thread && threadReady) return Promise.resolve();
      if (!ensureThread()) return Promise.resolve();
      return new Promise<void>((resolve) => readyWaiters.add(resolve));
    },
    async kill() {
      await thread?.terminate();
    },
    stop(timeoutMs) {
      stopped ??= (async () => {
        const worker = thread;
        if (!worker) return;
        const ended = new Promise<void>((resolve) => {
          onStopped = resolve;
        });
        send(worker, { type: 'stop' });
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            log.warn({ timeoutMs }, 'the ACK thread did not stop in time; terminating it');
            resolve();
          }, timeoutMs);
        });
        await Promise.race([ended, late]);
        clearTimeout(timer);
        await worker.terminate();
      })();
      return stopped;
    },
  };
}
