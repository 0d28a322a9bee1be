import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildAckFrame,
  buildAckPayload,
  buildPingFrame,
  buildPongFrame,
  decodeFrame,
  encodeFrame,
  FrameDecodeError,
  getHeader,
  type Frame,
} from './frame';

const decoder = new TextDecoder();

function eventFrame(overrides: Partial<Frame> = {}): Frame {
  return {
    seqId: 42n,
    logId: 7_000_000_001n,
    service: 11,
    method: 1,
    headers: [
      { key: 'type', value: 'event' },
      { key: 'message_id', value: 'msg-1' },
      { key: 'sum', value: '1' },
      { key: 'seq', value: '0' },
      { key: 'trace_id', value: 'trace-1' },
    ],
    payload: new TextEncoder().encode('{"schema":"2.0"}'),
    ...overrides,
  };
}

describe('frame codec', () => {
  it('round-trips every field, including 64-bit ids beyond the safe integer range', () => {
    const frame = eventFrame({
      seqId: 18_446_744_073_709_551_615n,
      logId: 9_007_199_254_740_993n,
      payloadEncoding: 'gzip',
      payloadType: 'json',
      logIdNew: 'log-new-1',
    });
    const decoded = decodeFrame(encodeFrame(frame));
    expect(decoded).toEqual({ ...frame, payload: expect.any(Uint8Array) });
    expect(decoder.decode(decoded.payload)).toBe('{"schema":"2.0"}');
  });

  it('puts the four required fields on the wire even when they are zero', () => {
    const bytes = encodeFrame({ seqId: 0n, logId: 0n, service: 0, method: 0, headers: [] });
    // tag 1..4 (varint wire type) each followed by a zero varint.
    expect(Buffer.from(bytes).toString('hex')).toBe('0800100018002000');
    expect(decodeFrame(bytes)).toEqual({ seqId: 0n, logId: 0n, service: 0, method: 0, headers: [] });
  });

  it('omits absent optional fields and keeps an empty payload distinct from none', () => {
    const without = decodeFrame(encodeFrame(buildPingFrame(3)));
    expect(without.payload).toBeUndefined();
    expect(without.payloadType).toBeUndefined();
    const withEmpty = decodeFrame(encodeFrame({ ...buildPingFrame(3), payload: new Uint8Array(0) }));
    expect(withEmpty.payload).toBeInstanceOf(Uint8Array);
    expect(withEmpty.payload?.byteLength).toBe(0);
  });

  it('encodes a negative service id as int32', () => {
    const decoded = decodeFrame(encodeFrame({ ...buildPingFrame(-5) }));
    expect(decoded.service).toBe(-5);
  });

  it('encodes a multi-megabyte frame and keeps encoding small frames correctly afterwards', () => {
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
    const decodedBig = decodeFrame(encodeFrame(eventFrame({ payload: big })));
    expect(decodedBig.payload?.byteLength).toBe(big.byteLength);
    expect(Buffer.compare(Buffer.from(decodedBig.payload as Uint8Array), Buffer.from(big))).toBe(0);
    const small = encodeFrame(buildPingFrame(1));
    expect(small.byteLength).toBeLessThan(32);
    expect(decodeFrame(small)).toEqual({ seqId: 0n, logId: 0n, service: 1, method: 0, headers: [{ key: 'type', value: 'ping' }] });
  });

  it('returns independent buffers from consecutive encodes', () => {
    const first = encodeFrame(buildPingFrame(1));
    const copy = Uint8Array.from(first);
    encodeFrame(buildPingFrame(2));
    expect(Array.from(first)).toEqual(Array.from(copy));
  });

  it('rejects frames missing a required field with a typed error', () => {
    // Only SeqID and LogID present.
    expect(() => decodeFrame(Uint8Array.from([0x08, 0x01, 0x10, 0x02]))).toThrow(FrameDecodeError);
    expect(() => decodeFrame(new Uint8Array(0))).toThrow(/missing required 'SeqID'/);
  });

  it('rejects a header without its value', () => {
    const bytes = Uint8Array.from([0x08, 0x00, 0x10, 0x00, 0x18, 0x00, 0x20, 0x00, 0x2a, 0x03, 0x0a, 0x01, 0x61]);
    expect(() => decodeFrame(bytes)).toThrow(FrameDecodeError);
  });

  it('never lets random bytes escape as anything but a FrameDecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        try {
          const frame = decodeFrame(bytes);
          expect(typeof frame.seqId).toBe('bigint');
          expect(Array.isArray(frame.headers)).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(FrameDecodeError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('survives hostile nesting (deep groups) with a typed error', () => {
    const bytes = new Uint8Array(200_000).fill(0x0b); // endless "start group" tags
    expect(() => decodeFrame(bytes)).toThrow(FrameDecodeError);
  });

  it('round-trips arbitrary frames', () => {
    const header = fc.record({ key: fc.string(), value: fc.string() });
    const frameArb = fc.record(
      {
        seqId: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        logId: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        service: fc.integer({ min: -2147483648, max: 2147483647 }),
        method: fc.integer({ min: -2147483648, max: 2147483647 }),
        headers: fc.array(header, { maxLength: 6 }),
        payloadEncoding: fc.string(),
        payloadType: fc.string(),
        payload: fc.uint8Array({ maxLength: 64 }),
        logIdNew: fc.string(),
      },
      { requiredKeys: ['seqId', 'logId', 'service', 'method', 'headers'] },
    );
    fc.assert(
      fc.property(frameArb, (frame) => {
        const decoded = decodeFrame(encodeFrame(frame));
        expect({ ...decoded, payload: decoded.payload && Array.from(decoded.payload) }).toEqual({
          ...frame,
          payload: frame.payload && Array.from(frame.payload),
        });
      }),
      { numRuns: 500 },
    );
  });
});

describe('frame builders', () => {
  it('builds a ping for the service id', () => {
    expect(buildPingFrame(99)).toEqual({ seqId: 0n, logId: 0n, service: 99, method: 0, headers: [{ key: 'type', value: 'ping' }] });
  });

  it('answers a ping with a pong carrying the same ids', () => {
    const pong = buildPongFrame({ seqId: 5n, logId: 6n, service: 7 });
    expect(pong).toMatchObject({ seqId: 5n, logId: 6n, service: 7, method: 0 });
    expect(getHeader(pong, 'type')).toBe('pong');
  });

  it('builds an ACK that echoes the frame, appends biz_rt and carries code 200', () => {
    const received = decodeFrame(encodeFrame(eventFrame({ logIdNew: 'n-1' })));
    const ack = decodeFrame(encodeFrame(buildAckFrame(received, { code: 200, bizRtMs: 12.6 })));
    expect(ack.seqId).toBe(42n);
    expect(ack.logId).toBe(7_000_000_001n);
    expect(ack.service).toBe(11);
    expect(ack.method).toBe(1);
    expect(ack.logIdNew).toBe('n-1');
    expect(ack.headers).toEqual([...eventFrame().headers, { key: 'biz_rt', value: '13' }]);
    expect(JSON.parse(decoder.decode(ack.payload))).toEqual({ code: 200 });
  });

  it('builds a 500 ACK and never reports a negative biz_rt', () => {
    const ack = buildAckFrame(eventFrame(), { code: 500, bizRtMs: -3 });
    expect(getHeader(ack, 'biz_rt')).toBe('0');
    expect(JSON.parse(decoder.decode(ack.payload))).toEqual({ code: 500 });
  });

  it('carries card-action response data as base64 JSON', () => {
    const payload = JSON.parse(decoder.decode(buildAckPayload(200, { toast: { type: 'info', content: 'ok' } })));
    expect(payload.code).toBe(200);
    expect(JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8'))).toEqual({ toast: { type: 'info', content: 'ok' } });
  });

  it('does not mutate the received frame when building an ACK', () => {
    const received = eventFrame();
    buildAckFrame(received, { code: 200, bizRtMs: 1 });
    expect(received.headers).toHaveLength(5);
  });
});
