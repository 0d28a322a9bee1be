import { describe, expect, test } from 'vitest';
import { reconnectDelayMs, type ReconnectInput } from './reconnect-delay';

const platformDefaults = { pingIntervalMs: 120_000, reconnectCount: -1, reconnectIntervalMs: 120_000, reconnectNonceMs: 30_000 };
const base: ReconnectInput = { clientConfig: platformDefaults, wasHealthy: false, failedAttempts: 1, fatal: false, backoffMs: 1000, backoffMaxMs: 60_000, random: () => 1 };

describe('reconnectDelayMs', () => {
  test('the first reconnect after a healthy connection waits a random share of ReconnectNonce', () => {
    const cfg = { ...platformDefaults, reconnectNonceMs: 2000 };
    expect(reconnectDelayMs({ ...base, clientConfig: cfg, wasHealthy: true, random: () => 0.5 })).toBe(1000);
    expect(reconnectDelayMs({ ...base, clientConfig: cfg, wasHealthy: true, random: () => 0 })).toBe(0);
  });

  test('the nonce window is bounded by our own ceiling, and by a few seconds whatever the platform asks', () => {
    expect(reconnectDelayMs({ ...base, wasHealthy: true, backoffMaxMs: 300, random: () => 1 })).toBe(300);
    expect(reconnectDelayMs({ ...base, wasHealthy: true, random: () => 1 })).toBe(3000);
  });

  test('failed attempts follow our backoff, never longer than ReconnectInterval', () => {
    expect(reconnectDelayMs({ ...base, backoffMs: 8000 })).toBe(8000);
    const shortInterval = { ...platformDefaults, reconnectIntervalMs: 3000 };
    expect(reconnectDelayMs({ ...base, clientConfig: shortInterval, backoffMs: 8000 })).toBe(3000);
  });

  test('past ReconnectCount failures it keeps trying at the slowest pace instead of giving up', () => {
    const counted = { ...platformDefaults, reconnectCount: 2, reconnectIntervalMs: 5000 };
    expect(reconnectDelayMs({ ...base, clientConfig: counted, failedAttempts: 2, backoffMs: 1000 })).toBe(1000);
    expect(reconnectDelayMs({ ...base, clientConfig: counted, failedAttempts: 3, backoffMs: 1000 })).toBe(5000);
  });

  test('a fatal refusal waits the full ceiling, jittered down by at most half', () => {
    expect(reconnectDelayMs({ ...base, fatal: true, random: () => 0 })).toBe(30_000);
    expect(reconnectDelayMs({ ...base, fatal: true, random: () => 1 })).toBe(60_000);
  });
});

test('after a half-open socket is replaced, it reconnects at once: its events are being redelivered', () => {
  expect(reconnectDelayMs({ ...base, silent: true, backoffMs: 16_000, random: () => 1 })).toBeLessThanOrEqual(300);
});
