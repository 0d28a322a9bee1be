import { describe, expect, test } from 'vitest';
import { ConcurrencyGate } from './concurrency-gate';

describe('ConcurrencyGate', () => {
  test('admits up to the limit, then queues in order and hands slots over on release', async () => {
    const gate = new ConcurrencyGate(2);
    const a = await gate.acquire(10);
    const b = await gate.acquire(10);
    expect(a && b).toBeTruthy();
    const order: string[] = [];
    const c = gate.acquire(1000).then((s) => (order.push('c'), s));
    const d = gate.acquire(1000).then((s) => (order.push('d'), s));
    expect(gate.waiting).toBe(2);
    a!.release();
    a!.release(); // releasing twice frees one slot only
    expect(await c).not.toBeNull();
    expect(gate.inFlight).toBe(2);
    b!.release();
    expect(await d).not.toBeNull();
    expect(order).toEqual(['c', 'd']);
    expect(gate.waiting).toBe(0);
  });

  test('a waiter gives up after its wait and takes no slot', async () => {
    const gate = new ConcurrencyGate(1);
    const held = await gate.acquire(10);
    expect(await gate.acquire(20)).toBeNull();
    held!.release();
    expect(gate.inFlight).toBe(0);
    expect(await gate.acquire(10)).not.toBeNull();
  });
});
