import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';

export const FRAME_METHOD_CONTROL = 0;
export const FRAME_METHOD_DATA = 1;

export const HEADER_TYPE = 'type';
export const HEADER_MESSAGE_ID = 'message_id';
export const HEADER_SUM = 'sum';
export const HEADER_SEQ = 'seq';
export const HEADER_TRACE_ID = 'trace_id';
export const HEADER_BIZ_RT = 'biz_rt';

export const FRAME_TYPE_PING = 'ping';
export const FRAME_TYPE_PONG = 'pong';
export const FRAME_TYPE_EVENT = 'event';
export const FRAME_TYPE_CARD = 'card';

export type FrameHeader = { key: string; value: string };

export type Frame = {
  seqId: bigint;
  logId: bigint;
  service: number;
  method: number;
  headers: FrameHeader[];
  payloadEncoding?: string;
  payloadType?: string;
  payload?: Uint8Array;
  logIdNew?: string;
};

export class FrameDecodeError extends Error {
  readonly code = 'invalid_frame' as const;

  constructor(message: string) {
    super(message);
    this.name = 'FrameDecodeError';
  }
}

type LongLike = { low: number; high: number };

// The wire-level shape protobufjs reads and writes (field names exactly as in pbbp2.proto).
type WireFrame = {
  SeqID: number | LongLike;
  LogID: number | LongLike;
  service: number;
  method: number;
  headers?: FrameHeader[];
  payload_encoding?: string;
  payload_type?: string;
  payload?: Uint8Array;
  LogIDNew?: string;
};

// The .proto file is the schema's source of truth; protobufjs compiles encoders/decoders from it once.
const protoSource = readFileSync(new URL('./pbbp2.proto', import.meta.url), 'utf8');
const protoRoot = protobuf.parse(protoSource, { keepCase: true }).root;
const wireFrameType = protoRoot.lookupType('pbbp2.Frame');

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const UINT32_MASK = 0xffffffffn;
const UINT64_MAX = (1n << 64n) - 1n;

function toWireUint64(value: bigint): number | LongLike {
  if (value >= 0n && value <= MAX_SAFE) return Number(value);
  if (value < 0n || value > UINT64_MAX) throw new RangeError('uint64 out of range');
  return { low: Number(value & UINT32_MASK) | 0, high: Number(value >> 32n) | 0 };
}

function fromWireUint64(value: WireFrame['SeqID']): bigint {
  if (typeof value === 'number') return BigInt(value);
  if (value.high === 0) return BigInt(value.low >>> 0);
  return (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
}

// Encoding is synchronous, so one writer can be reused: its buffer grows once to the largest frame
// instead of being regrown for every large payload. A writer grown past the cap is not kept.
const MAX_RETAINED_WRITER_BYTES = 1024 * 1024;
let sharedWriter = protobuf.Writer.create();

const hasOwn = Object.prototype.hasOwnProperty;

export function encodeFrame(frame: Frame): Uint8Array {
  const wire: WireFrame = {
    SeqID: toWireUint64(frame.seqId),
    LogID: toWireUint64(frame.logId),
    service: frame.service,
    method: frame.method,
    headers: frame.headers,
  };
  if (frame.payloadEncoding !== undefined) wire.payload_encoding = frame.payloadEncoding;
  if (frame.payloadType !== undefined) wire.payload_type = frame.payloadType;
  if (frame.payload !== undefined) wire.payload = frame.payload;
  if (frame.logIdNew !== undefined) wire.LogIDNew = frame.logIdNew;
  sharedWriter.pos = 0;
  sharedWriter.states = null;
  const bytes = wireFrameType.encode(wire, sharedWriter).finish();
  if (sharedWriter.buf.length > MAX_RETAINED_WRITER_BYTES) sharedWriter = protobuf.Writer.create();
  return bytes;
}

export function decodeFrame(bytes: Uint8Array): Frame {
  let wire: WireFrame;
  try {
    wire = wireFrameType.decode(bytes) as unknown as WireFrame;
  } catch (error) {
    // protobufjs throws ProtocolError, RangeError or plain Errors on hostile input; one type for callers.
    throw new FrameDecodeError(`undecodable frame: ${error instanceof Error ? error.message : 'unknown error'}`);
  }
  const frame: Frame = {
    seqId: fromWireUint64(wire.SeqID),
    logId: fromWireUint64(wire.LogID),
    service: wire.service,
    method: wire.method,
    headers: wire.headers ?? [],
  };
  if (hasOwn.call(wire, 'payload_encoding')) frame.payloadEncoding = wire.payload_encoding;
  if (hasOwn.call(wire, 'payload_type')) frame.payloadType = wire.payload_type;
  if (hasOwn.call(wire, 'payload')) frame.payload = wire.payload;
  if (hasOwn.call(wire, 'LogIDNew')) frame.logIdNew = wire.LogIDNew;
  return frame;
}

export function getHeader(frame: Pick<Frame, 'headers'>, key: string): string | undefined {
  for (const header of frame.headers) if (header.key === key) return header.value;
  return undefined;
}

export function buildPingFrame(serviceId: number): Frame {
  return {
    seqId: 0n,
    logId: 0n,
    service: serviceId,
    method: FRAME_METHOD_CONTROL,
    headers: [{ key: HEADER_TYPE, value: FRAME_TYPE_PING }],
  };
}

export function buildPongFrame(ping: Pick<Frame, 'seqId' | 'logId' | 'service'>, payload?: Uint8Array): Frame {
  const pong: Frame = {
    seqId: ping.seqId,
    logId: ping.logId,
    service: ping.service,
    method: FRAME_METHOD_CONTROL,
    headers: [{ key: HEADER_TYPE, value: FRAME_TYPE_PONG }],
  };
  if (payload !== undefined) pong.payload = payload;
  return pong;
}

export type AckCode = 200 | 500;

export type AckOptions = {
  code: AckCode;
  bizRtMs: number;
  // Card-action responses (toast / replacement card) ride in the ACK as base64 JSON.
  responseData?: unknown;
};

const textEncoder = new TextEncoder();
const ACK_PAYLOAD_200 = textEncoder.encode('{"code":200}');
const ACK_PAYLOAD_500 = textEncoder.encode('{"code":500}');

export function buildAckPayload(code: AckCode, responseData?: unknown): Uint8Array {
  if (responseData === undefined) return code === 200 ? ACK_PAYLOAD_200 : ACK_PAYLOAD_500;
  const data = Buffer.from(JSON.stringify(responseData), 'utf8').toString('base64');
  return textEncoder.encode(JSON.stringify({ code, data }));
}

// The ACK is the received frame sent back: same ids, same headers in order, plus biz_rt and the verdict.
export function buildAckFrame(received: Frame, options: AckOptions): Frame {
  const bizRt = Math.max(0, Math.round(options.bizRtMs));
  const ack: Frame = {
    seqId: received.seqId,
    logId: received.logId,
    service: received.service,
    method: FRAME_METHOD_DATA,
    headers: [...received.headers, { key: HEADER_BIZ_RT, value: String(bizRt) }],
    payload: buildAckPayload(options.code, options.responseData),
  };
  if (received.payloadEncoding !== undefined) ack.payloadEncoding = received.payloadEncoding;
  if (received.payloadType !== undefined) ack.payloadType = received.payloadType;
  if (received.logIdNew !== undefined) ack.logIdNew = received.logIdNew;
  return ack;
}
