import type { ChildProcess } from 'node:child_process';

export type SupervisedExit = { name: string; code: number | null; signal: NodeJS.Signals | null };

export type SupervisorOptions = {
  name: string;
  start: () => ChildProcess;
  log: (line: string) => void;
  /** Exits that mean "do not try again" (e.g. a configuration error). */
  isFinal?: (exit: SupervisedExit) => boolean;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** Up this long, a child counts as healthy again and the backoff starts over. */
  healthyAfterMs?: number;
};

export type Supervised = {
  current(): ChildProcess;
  restarts(): number;
  /** Resolves with the exit that ended supervision (a final one), never for a restarted crash. */
  ended: Promise<SupervisedExit>;
  /** Stops restarting; the caller then signals `current()` itself. */
  release(): void;
};

/**
 * Keeps a child process running: an unexpected exit is logged and the child started again after a
 * backoff, so a crashed worker comes back by itself instead of taking the product down.
 */
export function supervise(opts: SupervisorOptions): Supervised {
  const min = opts.backoffMinMs ?? 1000;
  const max = opts.backoffMaxMs ?? 30_000;
  const healthyAfter = opts.healthyAfterMs ?? 60_000;
  let child = opts.start();
  let startedAt = Date.now();
  let backoff = min;
  let restarts = 0;
  let released = false;
  let resolveEnded!: (exit: SupervisedExit) => void;
  const ended = new Promise<SupervisedExit>((resolve) => (resolveEnded = resolve));

  const watch = (c: ChildProcess) => {
    c.once('exit', (code, signal) => {
      const exit = { name: opts.name, code, signal };
      if (released || opts.isFinal?.(exit)) return resolveEnded(exit);
      if (Date.now() - startedAt >= healthyAfter) backoff = min;
      const delay = backoff;
      backoff = Math.min(max, backoff * 2);
      opts.log(`${opts.name} exited unexpectedly (${signal ?? `code ${code}`}); restarting in ${Math.round(delay / 1000)} s`);
      setTimeout(() => {
        if (released) return resolveEnded(exit);
        restarts += 1;
        child = opts.start();
        startedAt = Date.now();
        watch(child);
      }, delay).unref();
    });
  };
  watch(child);
  return {
    current: () => child,
    restarts: () => restarts,
    ended,
    release: () => {
      released = true;
    },
  };
}
