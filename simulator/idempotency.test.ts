import { afterEach, expect, test, vi } from 'vitest';
import { randomHex } from './ids';
import { IdempotencyStore } from './im-api';

afterEach(() => {
  vi.useRealTimers();
});

test('a uuid is remembered for an hour, then forgotten, and an expired entry is pruned by the next write', () => {
  vi.useFakeTimers({ now: 0 });
  const store = new IdempotencyStore();
  store.set('cli_a', 'u1', 'om_1');
  vi.setSystemTime(30 * 60_000);
  store.set('cli_a', 'u2', 'om_2');
  expect(store.get('cli_a', 'u1')).toBe('om_1');
  expect(store.get('cli_b', 'u1')).toBeUndefined();
  // u1 is past the hour, u2 is not.
  vi.setSystemTime(61 * 60_000);
  store.set('cli_a', 'u3', 'om_3');
  expect(store.size).toBe(2);
  expect(store.get('cli_a', 'u1')).toBeUndefined();
  expect(store.get('cli_a', 'u2')).toBe('om_2');
  // A rewritten uuid counts from its last write.
  store.set('cli_a', 'u2', 'om_2b');
  vi.setSystemTime(120 * 60_000);
  expect(store.get('cli_a', 'u2')).toBe('om_2b');
});

test('random ids are hex of the asked length and do not repeat across the pool', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const id = randomHex(i % 2 === 0 ? 32 : 13);
    expect(id).toMatch(i % 2 === 0 ? /^[0-9a-f]{32}$/ : /^[0-9a-f]{13}$/);
    seen.add(id);
  }
  expect(seen.size).toBe(5000);
});
