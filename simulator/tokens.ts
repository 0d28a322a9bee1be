import { newTenantToken } from './ids';
import type { Brand } from './state';

type TenantToken = { token: string; appId: string; brand: Brand; expiresAt: number };

/**
 * Tenant access tokens. Like Lark, asking again while the current token still has a good part of
 * its life left returns the same token with the remaining lifetime; otherwise a new one is minted
 * and the old one stays valid until it expires.
 */
export class TokenStore {
  private readonly tokens = new Map<string, TenantToken>();

  constructor(private readonly ttlSeconds: number) {}

  issue(appId: string, brand: Brand, now = Date.now()): { token: string; expire: number } {
    const reuseAboveMs = Math.min(30 * 60, this.ttlSeconds / 4) * 1000;
    let best: TenantToken | undefined;
    for (const t of this.tokens.values()) {
      if (t.appId === appId && t.expiresAt > now && (!best || t.expiresAt > best.expiresAt)) best = t;
    }
    if (best && best.expiresAt - now > reuseAboveMs) {
      return { token: best.token, expire: Math.floor((best.expiresAt - now) / 1000) };
    }
    const token = { token: newTenantToken(), appId, brand, expiresAt: now + this.ttlSeconds * 1000 };
    this.tokens.set(token.token, token);
    this.sweep(now);
    return { token: token.token, expire: this.ttlSeconds };
  }

  /** The app a live token belongs to on this brand's host, or undefined. */
  verify(token: string, brand: Brand, now = Date.now()): string | undefined {
    const t = this.tokens.get(token);
    if (!t || t.brand !== brand || t.expiresAt <= now) return undefined;
    return t.appId;
  }

  invalidate(appId?: string): number {
    let count = 0;
    for (const [key, t] of this.tokens) {
      if (!appId || t.appId === appId) {
        this.tokens.delete(key);
        count += 1;
      }
    }
    return count;
  }

  clear(): void {
    this.tokens.clear();
  }

  private sweep(now: number): void {
    for (const [key, t] of this.tokens) if (t.expiresAt <= now) this.tokens.delete(key);
  }
}
