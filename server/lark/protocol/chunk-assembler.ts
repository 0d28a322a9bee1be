import { LARK_DEFAULTS } from '../defaults';

export type ChunkInput = {
  messageId: string;
  sum: number;
  seq: number;
  data: Uint8Array;
};

export type ChunkResult =
  | { status: 'complete'; payload: Uint8Array }
  | { status: 'pending'; received: number; sum: number }
  | { status: 'invalid'; reason: string };

export type ChunkAssemblerOptions = {
  // Sliding: every chunk of a message restarts its clock.
  ttlMs?: number;
  maxChunksPerMessage?: number;
  maxPendingMessages?: number;
  now?: () => number;
};

type PendingMessage = {
  sum: number;
  parts: Map<number, Uint8Array>;
  bytes: number;
  lastSeenAt: number;
};

// Reassembles the chunks of one delivery (`message_id`). An incomplete message simply ages out:
// nothing is ACKed for it, so the platform redelivers the whole message.
export class ChunkAssembler {
  private readonly pending = new Map<string, PendingMessage>();
  private readonly ttlMs: number;
  private readonly maxChunksPerMessage: number;
  private readonly maxPendingMessages: number;
  private readonly now: () => number;

  constructor(options: ChunkAssemblerOptions = {}) {
    this.ttlMs = options.ttlMs ?? LARK_DEFAULTS.chunks.ttlMs;
    this.maxChunksPerMessage = options.maxChunksPerMessage ?? LARK_DEFAULTS.chunks.maxChunksPerMessage;
    this.maxPendingMessages = options.maxPendingMessages ?? LARK_DEFAULTS.chunks.maxPendingMessages;
    this.now = options.now ?? Date.now;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  add(chunk: ChunkInput): ChunkResult {
    const now = this.now();
    this.collectExpired(now);
    const { messageId, sum, seq, data } = chunk;
    if (!Number.isInteger(sum) || sum < 1 || sum > this.maxChunksPerMessage) {
      return { status: 'invalid', reason: `invalid sum ${String(sum)}` };
    }
    if (!Number.isInteger(seq) || seq < 0 || seq >= sum) {
      return { status: 'invalid', reason: `invalid seq ${String(seq)} for sum ${sum}` };
    }
    if (sum === 1) return { status: 'complete', payload: data };
    if (!messageId) return { status: 'invalid', reason: 'chunk without message_id' };

    let entry = this.pending.get(messageId);
    if (entry && entry.sum !== sum) {
      return { status: 'invalid', reason: `sum ${sum} differs from the first chunk's ${entry.sum}` };
    }
    if (!entry) {
      if (this.pending.size >= this.maxPendingMessages) this.evictOldest();
      entry = { sum, parts: new Map(), bytes: 0, lastSeenAt: now };
    }
    // Re-inserting keeps the map ordered by last activity, which lets collection stop at the first live entry.
    this.pending.delete(messageId);
    entry.lastSeenAt = now;
    this.pending.set(messageId, entry);

    if (!entry.parts.has(seq)) {
      entry.parts.set(seq, data);
      entry.bytes += data.byteLength;
    }
    if (entry.parts.size < entry.sum) return { status: 'pending', received: entry.parts.size, sum: entry.sum };

    this.pending.delete(messageId);
    const payload = new Uint8Array(entry.bytes);
    let offset = 0;
    for (let index = 0; index < entry.sum; index += 1) {
      const part = entry.parts.get(index) as Uint8Array;
      payload.set(part, offset);
      offset += part.byteLength;
    }
    return { status: 'complete', payload };
  }

  clear(): void {
    this.pending.clear();
  }

  private collectExpired(now: number): void {
    for (const [messageId, entry] of this.pending) {
      if (now - entry.lastSeenAt < this.ttlMs) break;
      this.pending.delete(messageId);
    }
  }

  private evictOldest(): void {
    const oldest = this.pending.keys().next();
    if (!oldest.done) this.pending.delete(oldest.value);
  }
}
