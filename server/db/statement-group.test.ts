import { expect, test } from 'vitest';
import { StatementGroup } from './statement-group';

/** A statement that takes `ms` and records the items it carried. */
function recorder(ms = 5, fail?: (items: number[]) => boolean) {
  const sent: number[][] = [];
  const group = new StatementGroup<number, number>(async (items) => {
    sent.push(items);
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (fail?.(items)) throw new Error(`refused ${items.join(',')}`);
    return items.map((i) => i * 10);
  });
  return { group, sent };
}

test('items of one turn go out as one statement; items submitted meanwhile go out together after it', async () => {
  const { group, sent } = recorder();
  const first = [1, 2, 3].map((i) => group.submit(i));
  await new Promise((resolve) => setImmediate(resolve));
  const second = [4, 5].map((i) => group.submit(i));
  expect(await Promise.all([...first, ...second])).toEqual([10, 20, 30, 40, 50]);
  expect(sent).toEqual([[1, 2, 3], [4, 5]]);
  expect(group.stats).toEqual({ statements: 2, items: 5 });
});

test('a lone item at low load is sent on the next turn, not held back', async () => {
  const { group, sent } = recorder(0);
  const started = Date.now();
  expect(await group.submit(7)).toBe(70);
  expect(Date.now() - started).toBeLessThan(50);
  expect(sent).toEqual([[7]]);
});

test('a group the database refuses is tried item by item, so only the bad item fails', async () => {
  const { group, sent } = recorder(1, (items) => items.includes(2));
  const results = await Promise.allSettled([1, 2, 3].map((i) => group.submit(i)));
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect((results[1] as PromiseRejectedResult).reason.message).toBe('refused 2');
  expect(sent).toEqual([[1, 2, 3], [1], [2], [3]]);
});

test('a statement that returns the wrong number of results fails its items', async () => {
  const group = new StatementGroup<number, number>(async () => []);
  await expect(group.submit(1)).rejects.toThrow('a grouped statement returned 0 results for 1 items');
});

test('no more than the maximum goes in one statement', async () => {
  const sent: number[] = [];
  const group = new StatementGroup<number>(async (items) => {
    sent.push(items.length);
    return items.map(() => undefined);
  }, 2);
  await Promise.all([1, 2, 3, 4, 5].map((i) => group.submit(i)));
  expect(sent).toEqual([2, 2, 1]);
});

test('a statement that never answers fails its items after the timeout, and the items behind it go out', async () => {
  const sent: number[][] = [];
  const group = new StatementGroup<number, number>(
    (items) => {
      sent.push(items);
      // The first statement hangs, as on a connection gone silent.
      return sent.length === 1 ? new Promise<number[]>(() => {}) : Promise.resolve(items);
    },
    500,
    50,
  );
  const hung = [group.submit(1), group.submit(2)];
  await new Promise((resolve) => setImmediate(resolve));
  const behind = group.submit(3);
  const settled = await Promise.allSettled(hung);
  expect(settled.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  expect((settled[0] as PromiseRejectedResult).reason.message).toBe('a grouped statement did not answer within 50 ms');
  expect(await behind).toBe(3);
  // No item-by-item retry of a statement that hung.
  expect(sent).toEqual([[1, 2], [3]]);
});
