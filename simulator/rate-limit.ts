// Keys include per-message card-update windows: forget finished windows once there are many.
const maxTrackedWindows = 10_000;

export type RateDecision = { ok: true } | { ok: false; resetSeconds: number };

/** Fixed-window counters (Lark's gateway counts per second and per minute). */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  hit(key: string, limit: number, windowMs: number, now = Date.now()): RateDecision {
    const start = now - (now % windowMs);
    const mapKey = `${windowMs}|${key}`;
    if (this.windows.size > maxTrackedWindows) this.prune(now);
    let window = this.windows.get(mapKey);
    if (!window || window.start !== start) {
      window = { start, count: 0 };
      this.windows.set(mapKey, window);
    }
    if (window.count >= limit) {
      return { ok: false, resetSeconds: Math.max(1, Math.ceil((start + windowMs - now) / 1000)) };
    }
    window.count += 1;
    return { ok: true };
  }

  clear(): void {
    this.windows.clear();
  }

  private prune(now: number): void {
    for (const [key, window] of this.windows) if (now - window.start > 60_000) this.windows.delete(key);
  }
}
