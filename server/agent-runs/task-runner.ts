import type { Logger } from 'pino';
import { sleep, Wakeup } from '../async/abortable';
import type { SecretBox } from '../crypto/secretbox';
import type { Db } from '../db/client';
import type { PgListener } from '../db/listen';
import { TASK_CANCELLED_CHANNEL, TASK_QUEUED_CHANNEL } from '../events';
import type { RunObserver, TaskHooks } from '../lark/outbound/task-hooks';
import type { RunTraces } from '../lark/outbound/outbox';
import { EMPTY_ALLOWLIST } from '../net/endpoint-allowlist';
import { createGuardedFetch, type GuardedFetch } from '../net/guarded-fetch';
import {
  claimTasks,
  completeTask,
  failTask,
  heartbeatTasks,
  releaseTask,
  requeueStaleTasks,
  storeStoppedAnswer,
  taskReference,
  type AgentTask,
  type ClaimedTask,
} from '../services/tasks';
import { postgresAttachmentStore, type AttachmentStore } from '../attachments/store';
import { buildRunHistory, DEFAULT_AGENT_INPUT_LIMITS, type AgentInputLimits } from './agent-input';
import { materializeAnswer } from './answer-media';
import type { AgentContext } from '../contract/attachments';
import { runtimeFor } from './runtime';
import { RuntimeError } from './runtime/openai';
import type { AgentRunResult } from './runtime/types';
import { WebAnswerStream } from './web-stream';

/** A runner renews its heartbeat (one row, however many runs it has) this often. */
export const TASK_HEARTBEAT_MS = 2_000;
/** A running task whose runner's heartbeat is older than this belongs to a dead worker and is requeued. */
export const TASK_STALE_AFTER_MS = 10_000;
/** Tasks claimed per statement at most. */
const CLAIM_BATCH = 32;
/** How long a woken runner lets further wake-ups gather before it claims. */
const CLAIM_COALESCE_MS = 15;
/** How long a finished run keeps trying to store its answer through database trouble. */
const COMPLETION_RETRY_MS = 30_000;

export type TaskRunnerOptions = {
  db: Db;
  /**
   * Claims and heartbeats go through this (default `db`): the worker gives it connections of their
   * own, so hundreds of runs storing answers never hold back the claim that starts the next runs.
   */
  claimDb?: Db;
  listener: PgListener;
  workerId: string;
  logger: Logger;
  concurrency: number;
  pollIntervalMs: number;
  /** Runs of one workspace beyond this wait while another workspace has runnable tasks (see claimTasks). */
  workspaceFairShare?: number;
  runtimeTimeoutMs: number;
  /** Overrides how often a running answer's new text reaches the web chat (tests). */
  streamFlushMs?: number;
  /** Overrides for tests: heartbeat period and staleness bound. */
  heartbeatMs?: number;
  staleAfterMs?: number;
  /** Extra writes that must commit with a task's completion or failure (the Lark reply outbox). */
  hooks?: TaskHooks;
  /**
   * How runtimes reach model endpoints. Defaults to public addresses only; the worker passes one
   * built from AGENT_ENDPOINT_ALLOWLIST.
   */
  agentFetch?: GuardedFetch;
  /** Opens sealed model API keys (LARK_SECRET_KEY); without it only legacy plaintext keys work. */
  secretBox?: SecretBox | null;
  /** Where attachments' bytes live (default: Postgres). */
  attachmentStore?: AttachmentStore;
  /** How much of a question's files and context the runtime is given. */
  inputLimits?: Partial<AgentInputLimits>;
};

type RunContext = TaskRunnerOptions & { agentFetch: GuardedFetch };

/**
 * `storing`: the run has its answer and is storing it; its completion is fenced on its own.
 * `cancelled`: its task was cancelled (Stop, recall): the run ends and hands over what it wrote.
 */
type Run = { task: AgentTask; controller: AbortController; done: Promise<void>; storing: boolean; cancelled: boolean };

/**
 * Claims queued agent tasks and runs them until the signal aborts. Running tasks heartbeat; tasks
 * of a worker that stopped heartbeating are requeued by any runner. On abort it stops claiming,
 * aborts the runs in flight and puts their tasks back in the queue for another worker.
 */
export async function runTaskRunner(opts: TaskRunnerOptions, signal: AbortSignal): Promise<void> {
  const wakeup = new Wakeup();
  // A missed NOTIFY only costs latency: the poll interval still finds queued tasks.
  const unsubscribe = opts.listener.subscribe(TASK_QUEUED_CHANNEL, { onNotify: () => wakeup.notify(), onResync: () => wakeup.notify() });
  const runs = new Map<string, Run>();
  // A cancelled task's run stops at once; without the notice, the heartbeat finds the task gone and stops it too.
  const unsubscribeCancel = opts.listener.subscribe(TASK_CANCELLED_CHANNEL, {
    onNotify: (taskId) => {
      const run = runs.get(taskId);
      if (!run || run.storing) return;
      run.cancelled = true;
      run.controller.abort();
    },
  });
  const heartbeatMs = opts.heartbeatMs ?? TASK_HEARTBEAT_MS;
  const staleAfterMs = opts.staleAfterMs ?? TASK_STALE_AFTER_MS;
  const heartbeat = runHeartbeat(opts, runs, { heartbeatMs, staleAfterMs }, signal);
  const ctx: RunContext = { ...opts, agentFetch: opts.agentFetch ?? createGuardedFetch({ allowlist: EMPTY_ALLOWLIST }) };

  try {
    while (!signal.aborted) {
      const free = opts.concurrency - runs.size;
      if (free <= 0) {
        // A pause of its own, ended as soon as a run finishes, so no listener outlives the iteration.
        const pause = new AbortController();
        const endPause = () => pause.abort();
        signal.addEventListener('abort', endPause, { once: true });
        await Promise.race([...[...runs.values()].map((r) => r.done), sleep(opts.pollIntervalMs, pause.signal)]);
        pause.abort();
        signal.removeEventListener('abort', endPause);
        continue;
      }
      const want = Math.min(free, CLAIM_BATCH);
      let claimed: ClaimedTask[];
      try {
        claimed = await claimTasks(opts.claimDb ?? opts.db, opts.workerId, want, opts.workspaceFairShare, opts.hooks?.claimContext);
      } catch (err) {
        opts.logger.error({ err }, 'claiming tasks failed');
        await sleep(opts.pollIntervalMs, signal);
        continue;
      }
      for (const c of claimed) {
        const controller = new AbortController();
        const run: Run = { task: c.task, controller, storing: false, cancelled: false, done: Promise.resolve() };
        run.done = executeTask(ctx, c, run)
          .catch((err) => opts.logger.error({ err, taskId: c.task.id }, 'a task run failed unexpectedly; its heartbeat stops and it is requeued'))
          .finally(() => {
            runs.delete(c.task.id);
            // A finished run frees its session: its next task may be runnable now.
            wakeup.notify();
          });
        runs.set(c.task.id, run);
      }
      // A full batch means more may be waiting: claim again at once. Otherwise wait for a wake-up,
      // then a moment more, so a burst of wake-ups (new tasks, finished runs) costs one claim.
      if (claimed.length < want) {
        await wakeup.wait(opts.pollIntervalMs, signal);
        await sleep(CLAIM_COALESCE_MS, signal);
      }
    }
  } finally {
    for (const run of runs.values()) run.controller.abort();
    await Promise.allSettled([...runs.values()].map((r) => r.done));
    await heartbeat;
    unsubscribe();
    unsubscribeCancel();
    if (!opts.agentFetch) await ctx.agentFetch.close().catch(() => undefined);
  }
}

/** Renews this runner's heartbeat, stops runs whose task was taken away, and requeues dead workers' tasks. */
async function runHeartbeat(opts: TaskRunnerOptions, runs: Map<string, Run>, timing: { heartbeatMs: number; staleAfterMs: number }, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    await sleep(timing.heartbeatMs, signal);
    if (signal.aborted) break;
    const current = [...runs.values()];
    try {
      const { held, cancelled } = await heartbeatTasks(opts.claimDb ?? opts.db, {
        workerId: opts.workerId,
        tasks: current.map((r) => r.task),
        staleAfterMs: timing.staleAfterMs,
      });
      for (const run of current) {
        // A run storing its answer may have just completed its task: not a sign of a requeue.
        if (held.has(run.task.id) || !runs.has(run.task.id) || run.storing) continue;
        if (cancelled.has(run.task.id)) {
          // Stopped or recalled, and the beat came before the notice: the run hands over what it wrote, as on the notice.
          run.cancelled = true;
        } else opts.logger.warn({ taskId: run.task.id }, 'task was requeued while running here; stopping this run');
        run.controller.abort();
      }
    } catch (err) {
      opts.logger.warn({ err }, 'task heartbeat failed; runs continue and their completion is fenced');
    }
    try {
      const requeued = await requeueStaleTasks(opts.claimDb ?? opts.db, timing.staleAfterMs);
      if (requeued > 0) opts.logger.warn({ requeued }, 'requeued tasks whose worker stopped heartbeating');
    } catch (err) {
      opts.logger.warn({ err }, 'requeueing stale tasks failed; trying again next beat');
    }
  }
}

async function executeTask(opts: RunContext, claimed: ClaimedTask, run: Run): Promise<void> {
  const { task, agent: a } = claimed;
  const signal = run.controller.signal;
  const log = opts.logger.child({ taskId: task.id, sessionId: task.sessionId, agentId: task.agentId });
  const fail = async (error: string, traces?: RunTraces, detail?: string) => {
    await failTask(opts.db, { task, error, detail, afterFail: opts.hooks && ((tx) => opts.hooks!.afterFail(tx, task, traces)) });
  };
  const runtime = a ? runtimeFor(a, { timeoutMs: opts.runtimeTimeoutMs, fetch: opts.agentFetch, box: opts.secretBox ?? null }) : null;
  if (!a || !runtime) {
    await fail(a ? `${a.name} has no runtime configured` : 'The agent no longer exists');
    return;
  }
  const observer = startObserving(opts, claimed, log);
  const web = new WebAnswerStream(opts.db, task, log, opts.streamFlushMs);
  const finishObserving = async (): Promise<RunTraces> => {
    const [traces] = await Promise.all([observer ? observer.finish().catch(() => ({})) : {}, web.end()]);
    return traces;
  };
  const timeout = AbortSignal.timeout(opts.runtimeTimeoutMs);
  const runSignal = AbortSignal.any([signal, timeout]);
  const store = opts.attachmentStore ?? postgresAttachmentStore;
  let history;
  try {
    history = await prepareHistory(opts, claimed, store, runSignal, log);
  } catch (err) {
    await finishObserving();
    // Database trouble before the run began: the task goes back to the queue, nothing is lost.
    log.warn({ err }, 'could not read what the run needs; handing the task back');
    await releaseTask(opts.db, task).catch((e) => log.warn({ err: e }, 'releasing a task failed; the stale-task sweep requeues it'));
    return;
  }
  let written = '';
  let result: AgentRunResult;
  try {
    result = await runtime.run({
      agentName: a.name,
      history,
      signal: runSignal,
      onText: (text) => {
        written = text;
        observer?.onText(text);
        web.push(text);
      },
    });
  } catch (err) {
    const traces = await finishObserving();
    if (run.cancelled) {
      await handOverStopped(opts, task, written, traces, log);
      return;
    }
    if (signal.aborted) {
      // Shutting down, or the task was taken away: put it back unless someone else holds it now.
      await releaseTask(opts.db, task).catch((e) => log.warn({ err: e }, 'releasing a task failed; the stale-task sweep requeues it'));
      log.info('task released for another worker');
      return;
    }
    const failure = timeout.aborted
      ? { message: `${a.name} did not answer within ${Math.round(opts.runtimeTimeoutMs / 1000)} s` }
      : err instanceof RuntimeError
        ? { message: err.message, detail: err.detail }
        : { message: 'The agent run failed', detail: 'unexpected failure; see the worker log for this reference' };
    // The endpoint's own words go to the operator's log only, never into the task.
    const upstream = err instanceof RuntimeError ? err.upstream : undefined;
    log.warn({ err, error: failure.message, detail: failure.detail, upstream, reference: taskReference(task.id) }, 'task failed');
    await fail(failure.message, traces, failure.detail).catch((e) => log.error({ err: e }, 'recording a failed task failed; the stale-task sweep retries it'));
    return;
  }
  const traces = await finishObserving();
  if (run.cancelled) {
    await handOverStopped(opts, task, typeof result === 'string' ? result : result.text, traces, log);
    return;
  }
  run.storing = true;
  let answer: { text: string; attachmentIds: string[] };
  try {
    answer = await materializeAnswer({ db: opts.db, store, fetch: opts.agentFetch, log, signal }, task, result);
  } catch (err) {
    log.warn({ err }, 'could not store the files of the answer; handing the task back');
    await releaseTask(opts.db, task).catch((e) => log.warn({ err: e }, 'releasing a task failed; the stale-task sweep requeues it'));
    return;
  }
  await storeAnswer(opts, claimed, answer, traces, signal, log);
}

/**
 * The conversation the runtime is given: what the Lark side fetches first (the question's images
 * and files, the context around it; each failure degrades to less input, never to no answer), then
 * the history with its files.
 */
async function prepareHistory(opts: RunContext, claimed: ClaimedTask, store: AttachmentStore, signal: AbortSignal, log: Logger) {
  let context: AgentContext | null = null;
  if (opts.hooks?.prepareRun) {
    try {
      context = await opts.hooks.prepareRun(claimed, log, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      log.warn({ err }, 'could not fetch the attachments or context of the question; the agent runs without them');
    }
  }
  return buildRunHistory(opts.db, store, claimed, context, { ...DEFAULT_AGENT_INPUT_LIMITS, ...opts.inputLimits });
}

function startObserving(opts: RunContext, claimed: ClaimedTask, log: Logger): RunObserver | null {
  try {
    return opts.hooks?.startRun?.(claimed, log) ?? null;
  } catch (err) {
    log.warn({ err }, 'could not follow the run; its answer is delivered when it is complete');
    return null;
  }
}

/** A run stopped by its asker keeps what it wrote: stored as a stopped answer and handed to the pending stop. */
async function handOverStopped(opts: RunContext, task: AgentTask, written: string, traces: RunTraces, log: Logger): Promise<void> {
  try {
    const alsoWrite = opts.hooks?.stoppedWrite?.(task, written, traces) ?? null;
    const stored = await storeStoppedAnswer(opts.db, { task, partial: written, alsoWrite });
    log.info({ stored }, 'run cancelled');
  } catch (err) {
    // The pending stop still closes the card when its wait ends, without the text.
    log.warn({ err }, 'could not store what a cancelled run wrote');
  }
}

/**
 * Stores a finished run's answer. Database trouble here must not turn a good answer into a failure:
 * retry for a while, and if the answer still cannot be stored, hand the task back to run again.
 */
async function storeAnswer(
  opts: TaskRunnerOptions,
  claimed: ClaimedTask,
  answer: { text: string; attachmentIds: string[] },
  traces: RunTraces,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  const { task } = claimed;
  const reply = answer.text;
  const deadline = Date.now() + COMPLETION_RETRY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      const alsoWrite = (await opts.hooks?.answerWrite(opts.db, task, reply, { ...traces, agentFiles: answer.attachmentIds.length }, claimed.context)) ?? null;
      const stored = await completeTask(opts.db, { task, reply, alsoWrite, attachmentIds: answer.attachmentIds });
      if (stored) log.info('task completed');
      else log.warn('task was requeued before its answer was stored; the new run answers');
      return;
    } catch (err) {
      if (signal.aborted || Date.now() > deadline) {
        log.error({ err }, 'could not store the answer; handing the task back');
        await releaseTask(opts.db, task).catch((e) => log.warn({ err: e }, 'releasing a task failed; the stale-task sweep requeues it'));
        return;
      }
      log.warn({ err, attempt }, 'storing the answer failed; retrying');
      await sleep(Math.min(5000, 250 * 2 ** attempt), signal);
    }
  }
}
