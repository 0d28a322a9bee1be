import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, type Frame } from './frame';

// The hand-written codec is refereed by protobufjs compiled from the schema file it implements.
const root = protobuf.parse(readFileSync(new URL('./pbbp2.proto', import.meta.url), 'utf8'), { keepCase: true }).root;
const schemaFrame = root.lookupType('pbbp2.Frame');

const uint64 = fc.oneof(fc.bigInt({ min: 0n, max: 1n << 20n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
const text = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 80 }));
const frameArb: fc.Arbitrary<Frame> = fc.record(
  {
    seqId: uint64,
    logId: uint64,
    service: fc.integer({ min: -2147483648, max: 2147483647 }),
    method: fc.integer({ min: -2147483648, max: 2147483647 }),
    headers: fc.array(fc.record({ key: text, value: text }), { maxLength: 6 }),
    payloadEncoding: text,
    payloadType: text,
    payload: fc.uint8Array({ maxLength: 300 }),
    logIdNew: text,
  },
  { requiredKeys: ['seqId', 'logId', 'service', 'method', 'headers'] },
);

function toSchemaObject(frame: Frame): Record<string, unknown> {
  const long = (value: bigint) => protobuf.util.LongBits.from(value.toString()).toLong(true);
  const object: Record<string, unknown> = {
    SeqID: long(frame.seqId),
    LogID: long(frame.logId),
    service: frame.service,
    method: frame.method,
    headers: frame.headers,
  };
  if (frame.payloadEncoding !== undefined) object.payload_encoding = frame.payloadEncoding;
  if (frame.payloadType !== undefined) object.payload_type = frame.payloadType;
  if (frame.payload !== undefined) object.payload = frame.payload;
  if (frame.logIdNew !== undefined) object.LogIDNew = frame.logIdNew;
  return object;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

describe('frame codec against the pbbp2 schema', () => {
  it('writes exactly the bytes protobufjs writes for the same frame', () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        expect(hex(encodeFrame(frame))).toBe(hex(schemaFrame.encode(toSchemaObject(frame)).finish()));
      }),
      { numRuns: 1000 },
    );
  });

  it('reads what protobufjs writes, field by field, skipping fields it does not know', () => {
    fc.assert(
      fc.property(frameArb, fc.uint8Array({ maxLength: 20 }), (frame, unknown) => {
        const known = schemaFrame.encode(toSchemaObject(frame)).finish();
        // Field 15 (length-delimited) and field 16 (varint) are not in the schema.
        const extra = Buffer.concat([Buffer.from([0x7a, unknown.length]), unknown, Buffer.from([0x80, 0x01, 0x96, 0x01])]);
        const decoded = decodeFrame(Buffer.concat([extra, known, extra]));
        const expected = schemaFrame.toObject(schemaFrame.decode(known), { longs: String });
        expect(decoded.seqId.toString()).toBe(expected.SeqID);
        expect(decoded.logId.toString()).toBe(expected.LogID);
        expect(decoded.service).toBe(expected.service);
        expect(decoded.method).toBe(expected.method);
        expect(decoded.headers).toEqual(expected.headers ?? []);
        expect(decoded.payloadEncoding).toBe(expected.payload_encoding);
        expect(decoded.payloadType).toBe(expected.payload_type);
        expect(decoded.payload && hex(decoded.payload)).toBe(expected.payload && hex(expected.payload));
        expect(decoded.logIdNew).toBe(expected.LogIDNew);
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects a known field sent with the wrong wire type', () => {
    // SeqID (field 1) as a length-delimited field.
    expect(() => decodeFrame(Uint8Array.from([0x0a, 0x01, 0x00, 0x10, 0x00, 0x18, 0x00, 0x20, 0x00]))).toThrow(/field 1 with wire type 2/);
  });

  it('rejects a length that runs past the end of the frame', () => {
    expect(() => decodeFrame(Uint8Array.from([0x08, 0x00, 0x10, 0x00, 0x18, 0x00, 0x20, 0x00, 0x42, 0x05, 0x01]))).toThrow(/beyond the end/);
  });
});
