/** Resolves after `ms`, or at once when the signal aborts. Never rejects. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A wake-up flag a loop can wait on: `notify()` ends the current or next `wait()` early. */
export class Wakeup {
  private pending = false;
  private resolveWaiter: (() => void) | null = null;

  notify(): void {
    this.pending = true;
    this.resolveWaiter?.();
  }

  async wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return;
    }
    const local = new AbortController();
    const onAbort = () => local.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    this.resolveWaiter = () => local.abort();
    await sleep(ms, local.signal);
    signal.removeEventListener('abort', onAbort);
    this.resolveWaiter = null;
    this.pending = false;
  }
}
