import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkAssembler, type ChunkResult } from './chunk-assembler';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function split(text: string, parts: number): Uint8Array[] {
  const bytes = encoder.encode(text);
  const size = Math.ceil(bytes.length / parts);
  return Array.from({ length: parts }, (_, index) => bytes.slice(index * size, (index + 1) * size));
}

function completed(result: ChunkResult): string {
  if (result.status !== 'complete') throw new Error(`expected complete, got ${result.status}`);
  return decoder.decode(result.payload);
}

function manualClock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('ChunkAssembler', () => {
  it('passes a single-chunk message straight through', () => {
    const assembler = new ChunkAssembler();
    expect(completed(assembler.add({ messageId: 'm', sum: 1, seq: 0, data: encoder.encode('{"a":1}') }))).toBe('{"a":1}');
    expect(assembler.pendingCount).toBe(0);
  });

  it('reassembles chunks that arrive out of order', () => {
    const assembler = new ChunkAssembler();
    const parts = split('{"text":"a fairly long payload split in three"}', 3);
    expect(assembler.add({ messageId: 'm', sum: 3, seq: 2, data: parts[2] })).toEqual({ status: 'pending', received: 1, sum: 3 });
    expect(assembler.add({ messageId: 'm', sum: 3, seq: 0, data: parts[0] }).status).toBe('pending');
    expect(completed(assembler.add({ messageId: 'm', sum: 3, seq: 1, data: parts[1] }))).toBe('{"text":"a fairly long payload split in three"}');
    expect(assembler.pendingCount).toBe(0);
  });

  it('ignores duplicate chunks and completes exactly once', () => {
    const assembler = new ChunkAssembler();
    const parts = split('0123456789', 2);
    expect(assembler.add({ messageId: 'm', sum: 2, seq: 0, data: parts[0] }).status).toBe('pending');
    expect(assembler.add({ messageId: 'm', sum: 2, seq: 0, data: parts[0] })).toEqual({ status: 'pending', received: 1, sum: 2 });
    expect(completed(assembler.add({ messageId: 'm', sum: 2, seq: 1, data: parts[1] }))).toBe('0123456789');
  });

  it('keeps messages with different ids apart', () => {
    const assembler = new ChunkAssembler();
    assembler.add({ messageId: 'a', sum: 2, seq: 0, data: encoder.encode('A0') });
    assembler.add({ messageId: 'b', sum: 2, seq: 0, data: encoder.encode('B0') });
    expect(completed(assembler.add({ messageId: 'b', sum: 2, seq: 1, data: encoder.encode('B1') }))).toBe('B0B1');
    expect(completed(assembler.add({ messageId: 'a', sum: 2, seq: 1, data: encoder.encode('A1') }))).toBe('A0A1');
  });

  it('drops an incomplete message once the sliding TTL passes without a new chunk', () => {
    const clock = manualClock();
    const assembler = new ChunkAssembler({ ttlMs: 5_000, now: clock.now });
    assembler.add({ messageId: 'm', sum: 3, seq: 0, data: encoder.encode('x') });
    clock.advance(4_000);
    // A chunk inside the window slides it.
    assembler.add({ messageId: 'm', sum: 3, seq: 1, data: encoder.encode('y') });
    clock.advance(4_000);
    expect(assembler.pendingCount).toBe(1);
    clock.advance(1_000);
    // Past the TTL: the partial message is gone, the late chunk starts a new one that cannot complete.
    expect(assembler.add({ messageId: 'm', sum: 3, seq: 2, data: encoder.encode('z') })).toEqual({ status: 'pending', received: 1, sum: 3 });
  });

  it('collects expired messages lazily on the next add', () => {
    const clock = manualClock();
    const assembler = new ChunkAssembler({ ttlMs: 100, now: clock.now });
    assembler.add({ messageId: 'old-1', sum: 2, seq: 0, data: encoder.encode('a') });
    assembler.add({ messageId: 'old-2', sum: 2, seq: 0, data: encoder.encode('a') });
    clock.advance(50);
    assembler.add({ messageId: 'fresh', sum: 2, seq: 0, data: encoder.encode('a') });
    clock.advance(60);
    expect(assembler.pendingCount).toBe(3);
    assembler.add({ messageId: 'other', sum: 1, seq: 0, data: encoder.encode('a') });
    expect(assembler.pendingCount).toBe(1);
  });

  it('rejects inconsistent or hostile chunk headers', () => {
    const assembler = new ChunkAssembler({ maxChunksPerMessage: 16 });
    const data = encoder.encode('x');
    expect(assembler.add({ messageId: '', sum: 2, seq: 0, data }).status).toBe('invalid');
    // Only reassembly needs the id: a whole message without one still goes through.
    expect(assembler.add({ messageId: '', sum: 1, seq: 0, data }).status).toBe('complete');
    expect(assembler.add({ messageId: 'm', sum: 0, seq: 0, data }).status).toBe('invalid');
    expect(assembler.add({ messageId: 'm', sum: Number.NaN, seq: 0, data }).status).toBe('invalid');
    expect(assembler.add({ messageId: 'm', sum: 1_000_000_000, seq: 0, data }).status).toBe('invalid');
    expect(assembler.add({ messageId: 'm', sum: 2, seq: 2, data }).status).toBe('invalid');
    expect(assembler.add({ messageId: 'm', sum: 2, seq: -1, data }).status).toBe('invalid');
    expect(assembler.add({ messageId: 'm', sum: 2, seq: 0, data }).status).toBe('pending');
    expect(assembler.add({ messageId: 'm', sum: 3, seq: 1, data }).status).toBe('invalid');
  });

  it('bounds the number of partial messages it holds', () => {
    const assembler = new ChunkAssembler({ maxPendingMessages: 2 });
    for (const id of ['a', 'b', 'c']) assembler.add({ messageId: id, sum: 2, seq: 0, data: encoder.encode(id) });
    expect(assembler.pendingCount).toBe(2);
    // 'a' was evicted: its second chunk alone cannot complete it.
    expect(assembler.add({ messageId: 'a', sum: 2, seq: 1, data: encoder.encode('!') }).status).toBe('pending');
  });

  it('reassembles any permutation with duplicates into the original bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.integer(),
        (bytes, requestedParts, duplicates, seed) => {
          const parts = Math.min(requestedParts, bytes.length);
          const size = Math.ceil(bytes.length / parts);
          const chunks = Array.from({ length: parts }, (_, i) => ({ seq: i, data: bytes.slice(i * size, (i + 1) * size) }));
          const order = [...chunks, ...duplicates.map((d) => chunks[d % chunks.length])];
          let state = seed;
          for (let i = order.length - 1; i > 0; i -= 1) {
            state = (state * 1103515245 + 12345) & 0x7fffffff;
            const j = state % (i + 1);
            [order[i], order[j]] = [order[j], order[i]];
          }
          const assembler = new ChunkAssembler();
          const results = order.map((c) => assembler.add({ messageId: 'm', sum: parts, seq: c.seq, data: c.data }));
          // The message completes exactly when the last distinct seq arrives, never before.
          const seen = new Set<number>();
          const completesAt = order.findIndex((c) => seen.add(c.seq).size === parts);
          results.slice(0, completesAt).forEach((r) => expect(r.status).toBe('pending'));
          const done = results[completesAt];
          if (done.status !== 'complete') throw new Error(`expected complete at ${completesAt}, got ${done.status}`);
          expect(Array.from(done.payload)).toEqual(Array.from(bytes));
        },
      ),
      { numRuns: 300 },
    );
  });
});
