import { isRetryableLarkError, LarkApiError, LarkNetworkError, LarkRateLimitError, TOKEN_INVALID_CODES } from '../api';

/**
 * The one retry policy for outbox sends. The job queue does not retry on its own: every retry is
 * decided here and scheduled as a new job, and a send whose worker died is handed back by the
 * outbox reconciler.
 */

/** Attempts before a retryable failure is recorded as failed. With the capped backoff below: roughly 10 minutes. */
export const MAX_DELIVERY_ATTEMPTS = 14;
/**
 * How long an attempt holds its row; the sender renews the hold before every part it sends, so a
 * sender that died releases the row within this, and the reconciler hands it back.
 */
export const DELIVERY_HOLD_SECONDS = 20;
// Lark's IM rate-limit code (the HTTP-level one is a LarkRateLimitError already).
const IM_RATE_LIMITED = 230020;
// A person is pressing a button on the card being updated: a moment later it goes through.
const CARD_IN_INTERACTION = 200810;
const BACKOFF_CAP_MS = 60_000;
const MIN_RATE_LIMIT_WAIT_MS = 200;

export type RetryDecision = { retry: false; reason: 'permanent' | 'attempts_exhausted' } | { retry: true; delayMs: number };

/** Exponential backoff from 1 s, capped at a minute, with jitter so retries of a burst spread out. */
export function backoffDelayMs(attempts: number): number {
  const base = Math.min(BACKOFF_CAP_MS, 1000 * 2 ** Math.max(0, attempts - 1));
  return base / 2 + Math.random() * (base / 2);
}

/** An error of ours (the database, a bug), as opposed to Lark's answer or the network to Lark. */
export function isInternalError(err: unknown): boolean {
  return !(err instanceof LarkApiError) && !(err instanceof LarkNetworkError);
}

/**
 * Whether a failed attempt (the `attempts`-th) is tried again, and when. Lark's permanent refusals
 * end at once; our own failures (a database blip) are retried like transient Lark ones, since
 * they say nothing about the message.
 */
export function decideRetry(err: unknown, attempts: number): RetryDecision {
  const code = err instanceof LarkApiError ? err.code : null;
  const retryable =
    isInternalError(err) || isRetryableLarkError(err) || code === IM_RATE_LIMITED || code === CARD_IN_INTERACTION || (code !== null && TOKEN_INVALID_CODES.has(code));
  if (!retryable) return { retry: false, reason: 'permanent' };
  if (attempts >= MAX_DELIVERY_ATTEMPTS) return { retry: false, reason: 'attempts_exhausted' };
  const delayMs = err instanceof LarkRateLimitError ? Math.max(err.retryAfterMs, MIN_RATE_LIMIT_WAIT_MS) : backoffDelayMs(attempts);
  return { retry: true, delayMs };
}
