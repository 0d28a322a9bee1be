/** At most `limit` holders at once; waiters are served in arrival order or give up after their wait. */
export class ConcurrencyGate {
  private active = 0;
  private readonly waiters: Array<{ grant: () => void; timer: NodeJS.Timeout }> = [];

  constructor(private readonly limit: number) {}

  get inFlight(): number {
    return this.active;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** A slot, or null when none freed up within `maxWaitMs`. */
  acquire(maxWaitMs: number): Promise<{ release: () => void } | null> {
    if (this.active < this.limit) {
      this.active += 1;
      return Promise.resolve(this.slot());
    }
    return new Promise((resolve) => {
      const waiter = {
        grant: () => {
          clearTimeout(waiter.timer);
          this.active += 1;
          resolve(this.slot());
        },
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          resolve(null);
        }, maxWaitMs),
      };
      this.waiters.push(waiter);
    });
  }

  private slot() {
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.active -= 1;
        this.waiters.shift()?.grant();
      },
    };
  }
}
