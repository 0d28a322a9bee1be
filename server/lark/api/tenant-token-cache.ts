import { LARK_DEFAULTS } from '../defaults';
import { abortReason } from './request';

export type FetchedTenantToken = { token: string; expireSeconds: number };

export type TenantTokenCacheOptions = {
  safetyMarginMs?: number;
  minExpireSeconds?: number;
  now?: () => number;
};

type CachedToken = { token: string; usableUntil: number };

// Tenant access tokens per app_id, shared by every client of the process. Concurrent misses for one
// app share a single token request.
export class TenantTokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly inFlight = new Map<string, Promise<string>>();
  private readonly safetyMarginMs: number;
  private readonly minExpireSeconds: number;
  private readonly now: () => number;

  constructor(options: TenantTokenCacheOptions = {}) {
    this.safetyMarginMs = options.safetyMarginMs ?? LARK_DEFAULTS.tenantToken.safetyMarginMs;
    this.minExpireSeconds = options.minExpireSeconds ?? LARK_DEFAULTS.tenantToken.minExpireSeconds;
    this.now = options.now ?? Date.now;
  }

  peek(appId: string): string | undefined {
    const cached = this.tokens.get(appId);
    if (!cached) return undefined;
    if (this.now() >= cached.usableUntil) {
      this.tokens.delete(appId);
      return undefined;
    }
    return cached.token;
  }

  async get(appId: string, fetchToken: () => Promise<FetchedTenantToken>, signal?: AbortSignal): Promise<string> {
    const cached = this.peek(appId);
    if (cached) return cached;
    let pending = this.inFlight.get(appId);
    if (!pending) {
      pending = this.fetchAndStore(appId, fetchToken);
      this.inFlight.set(appId, pending);
      const clear = () => {
        if (this.inFlight.get(appId) === pending) this.inFlight.delete(appId);
      };
      pending.then(clear, clear);
    }
    return raceWithSignal(pending, signal);
  }

  // Drops the token only if it is still the one the caller saw fail, so a fresher token is kept.
  invalidate(appId: string, token?: string): void {
    const cached = this.tokens.get(appId);
    if (cached && (token === undefined || cached.token === token)) this.tokens.delete(appId);
  }

  clear(): void {
    this.tokens.clear();
  }

  private async fetchAndStore(appId: string, fetchToken: () => Promise<FetchedTenantToken>): Promise<string> {
    const fetched = await fetchToken();
    const expireSeconds = Math.max(fetched.expireSeconds, this.minExpireSeconds);
    this.tokens.set(appId, {
      token: fetched.token,
      usableUntil: this.now() + expireSeconds * 1000 - this.safetyMarginMs,
    });
    return fetched.token;
  }
}

function raceWithSignal<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

export const sharedTenantTokenCache = new TenantTokenCache();
