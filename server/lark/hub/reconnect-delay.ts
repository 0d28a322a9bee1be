import type { LarkClientConfig } from '../protocol';

export type ReconnectInput = {
  /** The latest ClientConfig the platform sent on this connection (or the defaults). */
  clientConfig: LarkClientConfig;
  /** The attempt that just ended had been connected long enough to count as healthy. */
  wasHealthy: boolean;
  /** Failed (or short-lived) attempts in a row since the last healthy connection. */
  failedAttempts: number;
  /** The platform refused for good (bad credentials, app disabled): retry slowly. */
  fatal: boolean;
  /** The connection went half-open (our probe got no answer): the platform is not refusing us. */
  silent?: boolean;
  /** The hub's current exponential backoff step and its ceiling. */
  backoffMs: number;
  backoffMaxMs: number;
  random?: () => number;
};

/**
 * How long a supervisor waits before dialling again, per the platform's ClientConfig: the first
 * reconnect after a live connection waits a random share of ReconnectNonce (so every client of a
 * restarted gateway does not return at once); failed attempts back off no longer than
 * ReconnectInterval. Past ReconnectCount failures (when the platform sets one) we do not give up, as
 * a bot that stops trying is silently dead: we keep retrying at the slowest pace instead.
 * Every wait is bounded by our own ceiling, since the platform's defaults (30 s, 120 s) are far
 * longer than a chat can wait.
 */
/** The spread of a reconnect after a half-open socket was replaced. */
const SILENT_RECONNECT_SPREAD_MS = 300;
/** The spread of the first reconnect after a healthy connection: the platform asks for up to 30 s. */
const FIRST_RECONNECT_SPREAD_CAP_MS = 3_000;

export function reconnectDelayMs(input: ReconnectInput): number {
  const random = input.random ?? Math.random;
  const { clientConfig: cfg, backoffMaxMs } = input;
  if (input.fatal) return jittered(backoffMaxMs, random);
  // A half-open socket says nothing about the platform: the events it swallowed are being
  // redelivered right now, so come back at once (the detection itself already took seconds).
  if (input.silent) return random() * SILENT_RECONNECT_SPREAD_MS;
  if (input.wasHealthy) return random() * Math.min(cfg.reconnectNonceMs, backoffMaxMs, FIRST_RECONNECT_SPREAD_CAP_MS);
  const ceiling = Math.min(backoffMaxMs, cfg.reconnectIntervalMs > 0 ? cfg.reconnectIntervalMs : backoffMaxMs);
  const exhausted = cfg.reconnectCount >= 0 && input.failedAttempts > cfg.reconnectCount;
  return jittered(exhausted ? ceiling : Math.min(input.backoffMs, ceiling), random);
}

/** Between half and all of `ms`: spreads reconnects of many bots after a shared outage. */
const jittered = (ms: number, random: () => number) => ms / 2 + random() * (ms / 2);
