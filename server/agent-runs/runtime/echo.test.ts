import { describe, expect, test } from 'vitest';
import type { agent } from '../../db/schema';
import type { GuardedFetch } from '../../net/guarded-fetch';
import { echoDelayOf, echoRuntime, echoWordDelayOf } from './echo';
import { runtimeFor } from './index';

const history = [{ role: 'user' as const, content: 'hello there' }];
const input = (signal = new AbortController().signal) => ({ agentName: 'Echo', history, signal });

async function timed<T>(p: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await p;
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

describe('echo runtime', () => {
  test('streams its answer word by word, each text a prefix of the next, the last one the answer', async () => {
    const seen: Array<{ text: string; at: number }> = [];
    const started = performance.now();
    const reply = await echoRuntime(0, 40).run({ ...input(), onText: (text) => seen.push({ text, at: performance.now() - started }) });
    expect(reply).toBe('You said: "hello there"');
    expect(seen.map((s) => s.text)).toEqual(['You', 'You said:', 'You said: "hello', 'You said: "hello there"']);
    // Paced: the last word comes three pauses after the first.
    expect(seen[3].at - seen[0].at).toBeGreaterThanOrEqual(110);
  });

  test('a word delay is read from the stored config and capped', () => {
    expect(echoWordDelayOf({ wordDelayMs: 120 })).toBe(120);
    expect(echoWordDelayOf({ wordDelayMs: 10_000_000 })).toBe(2000);
    expect(echoWordDelayOf({ wordDelayMs: 'x' })).toBe(0);
    expect(echoWordDelayOf(null)).toBe(0);
  });

  test('without a delay it answers at once', async () => {
    const r = await timed(echoRuntime(0).run(input()));
    expect(r.value).toBe('You said: "hello there"');
    expect(r.ms).toBeLessThan(50);
  });

  test('with a delay it answers after it, not before', async () => {
    const r = await timed(echoRuntime(300).run(input()));
    expect(r.value).toBe('You said: "hello there"');
    expect(r.ms).toBeGreaterThanOrEqual(295);
    expect(r.ms).toBeLessThan(1000);
  });

  test('an abort during the delay rejects promptly with the signal reason', async () => {
    const controller = new AbortController();
    const pending = timed(echoRuntime(60_000).run(input(controller.signal)));
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    const r = await pending;
    expect(r.error).toBeInstanceOf(Error);
    expect((r.error as Error).message).toBe('shutting down');
    expect(r.ms).toBeLessThan(500);
  });

  test('an already aborted run rejects without waiting', async () => {
    const r = await timed(echoRuntime(60_000).run(input(AbortSignal.abort(new Error('gone')))));
    expect((r.error as Error).message).toBe('gone');
    expect(r.ms).toBeLessThan(50);
  });

  test('the stored delay is read defensively', () => {
    expect(echoDelayOf({})).toBe(0);
    expect(echoDelayOf({ delayMs: 2000 })).toBe(2000);
    // Rows written by hand or by older versions never make the run wait forever or throw.
    expect(echoDelayOf({ delayMs: -5 })).toBe(0);
    expect(echoDelayOf({ delayMs: '2000' })).toBe(0);
    expect(echoDelayOf({ delayMs: Number.POSITIVE_INFINITY })).toBe(0);
    expect(echoDelayOf({ delayMs: 10_000_000 })).toBe(60_000);
    expect(echoDelayOf({ delayMs: 12.7 })).toBe(12);
    expect(echoDelayOf(null)).toBe(0);
  });
});

describe('runtimeFor', () => {
  // The echo runtime never reaches the network.
  const noNetwork: GuardedFetch = Object.assign(() => Promise.reject(new Error('no network here')), { close: async () => {} });
  const deps = { timeoutMs: 5000, fetch: noNetwork, box: null };
  const row = (runtimeConfig: Record<string, unknown>) =>
    ({ id: 'a', workspaceId: 'w', ownerUserId: 'u', name: 'Echo', avatarColor: '#336699', runtimeKind: 'echo', runtimeConfig, archivedAt: null, createdAt: new Date(), updatedAt: new Date() }) as typeof agent.$inferSelect;

  test("an echo agent's stored delay is honoured", async () => {
    const r = await timed(runtimeFor(row({ delayMs: 250 }), deps)!.run(input()));
    expect(r.value).toBe('You said: "hello there"');
    expect(r.ms).toBeGreaterThanOrEqual(245);
  });

  test('an echo agent without a delay answers at once', async () => {
    const r = await timed(runtimeFor(row({}), deps)!.run(input()));
    expect(r.ms).toBeLessThan(50);
  });
});
