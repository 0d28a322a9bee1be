import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import type { PgListener } from '../db/listen';
import { agent } from '../db/schema';
import { TASK_QUEUED_CHANNEL } from '../events';
import type { Logger } from 'pino';
import {
  claimNextTask,
  completeTask,
  failTask,
  loadTaskHistory,
  releaseTask,
  requeueStaleTasks,
  type AgentTask,
} from '../services/tasks';
import { sleep, Wakeup } from '../async/abortable';
import type { TaskHooks } from '../lark/outbound/task-hooks';
import { runtimeFor } from './runtime';

export type TaskRunnerOptions = {
  db: Db;
  listener: PgListener;
  workerId: string;
  logger: Logger;
  concurrency: number;
  pollIntervalMs: number;
  runtimeTimeoutMs: number;
  /** How long a task may sit in `running` before another worker assumes its worker died. */
  staleAfterMs?: number;
  /** Extra writes that must commit with a task's completion or failure (the Lark reply outbox). */
  hooks?: TaskHooks;
};

/**
 * Claims queued agent tasks and runs them until the signal aborts. On abort it stops claiming,
 * aborts the runs in flight and puts their tasks back in the queue for another worker.
 */
export async function runTaskRunner(opts: TaskRunnerOptions, signal: AbortSignal): Promise<void> {
  const wakeup = new Wakeup();
  // A missed NOTIFY only costs latency: the poll interval still finds queued tasks.
  const unsubscribe = opts.listener.subscribe(TASK_QUEUED_CHANNEL, { onNotify: () => wakeup.notify(), onResync: () => wakeup.notify() });
  const inFlight = new Set<Promise<void>>();
  const runs = new AbortController();
  const abortRuns = () => runs.abort();
  signal.addEventListener('abort', abortRuns, { once: true });
  const staleAfterMs = opts.staleAfterMs ?? opts.runtimeTimeoutMs * 2 + 30_000;
  let lastStaleSweep = 0;

  try {
    while (!signal.aborted) {
      if (Date.now() - lastStaleSweep > staleAfterMs / 2) {
        lastStaleSweep = Date.now();
        const requeued = await requeueStaleTasks(opts.db, staleAfterMs).catch((err) => {
          opts.logger.warn({ err }, 'requeueing stale tasks failed; trying again next sweep');
          return 0;
        });
        if (requeued > 0) opts.logger.warn({ requeued }, 'requeued tasks abandoned by a stopped worker');
      }
      if (inFlight.size >= opts.concurrency) {
        // A pause of its own, ended as soon as a run finishes, so no listener outlives the iteration.
        const pause = new AbortController();
        const endPause = () => pause.abort();
        signal.addEventListener('abort', endPause, { once: true });
        await Promise.race([...inFlight, sleep(opts.pollIntervalMs, pause.signal)]);
        pause.abort();
        signal.removeEventListener('abort', endPause);
        continue;
      }
      let task: AgentTask | null = null;
      try {
        task = await claimNextTask(opts.db, opts.workerId);
      } catch (err) {
        opts.logger.error({ err }, 'claiming a task failed');
        await sleep(opts.pollIntervalMs, signal);
        continue;
      }
      if (!task) {
        await wakeup.wait(opts.pollIntervalMs, signal);
        continue;
      }
      const run = executeTask(opts, task, runs.signal).finally(() => {
        inFlight.delete(run);
        wakeup.notify();
      });
      inFlight.add(run);
    }
  } finally {
    runs.abort();
    await Promise.allSettled(inFlight);
    signal.removeEventListener('abort', abortRuns);
    unsubscribe();
  }
}

async function executeTask(opts: TaskRunnerOptions, task: AgentTask, signal: AbortSignal): Promise<void> {
  const log = opts.logger.child({ taskId: task.id, sessionId: task.sessionId, agentId: task.agentId });
  const [a] = await opts.db.select().from(agent).where(and(eq(agent.id, task.agentId), eq(agent.workspaceId, task.workspaceId)));
  const runtime = a ? runtimeFor(a, { timeoutMs: opts.runtimeTimeoutMs }) : null;
  if (!a || !runtime) {
    const error = a ? `${a.name} has no runtime configured` : 'The agent no longer exists';
    await failTask(opts.db, { task, error, afterFail: opts.hooks && ((tx) => opts.hooks!.afterFail(tx, task, error)) });
    return;
  }
  const timeout = AbortSignal.timeout(opts.runtimeTimeoutMs);
  const runSignal = AbortSignal.any([signal, timeout]);
  try {
    const history = await loadTaskHistory(opts.db, task);
    const reply = await runtime.run({ agentName: a.name, history, signal: runSignal });
    await completeTask(opts.db, { task, reply, afterComplete: opts.hooks && ((tx, message) => opts.hooks!.afterComplete(tx, task, message)) });
    log.info('task completed');
  } catch (err) {
    if (signal.aborted) {
      // If the release fails too, the stale-task sweep requeues it.
      await releaseTask(opts.db, task).catch((e) => log.warn({ err: e }, 'releasing a task at shutdown failed'));
      log.info('task released for another worker (shutdown)');
      return;
    }
    const message = timeout.aborted ? `${a.name} did not answer within ${Math.round(opts.runtimeTimeoutMs / 1000)} s` : (err as Error).message;
    await failTask(opts.db, { task, error: message, afterFail: opts.hooks && ((tx) => opts.hooks!.afterFail(tx, task, message)) }).catch((e) => log.error({ err: e }, 'recording a failed task failed'));
    log.warn({ error: message }, 'task failed');
  }
}
