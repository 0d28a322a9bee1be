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

// The pbbp2.Frame wire format (pbbp2.proto), written and read by hand: nine fields, one nested message,
// and a connector that spends most of its time here. Tags are precomputed (field << 3 | wire type).
const TAG_SEQ_ID = 0x08;
const TAG_LOG_ID = 0x10;
const TAG_SERVICE = 0x18;
const TAG_METHOD = 0x20;
const TAG_HEADER = 0x2a;
const TAG_PAYLOAD_ENCODING = 0x32;
const TAG_PAYLOAD_TYPE = 0x3a;
const TAG_PAYLOAD = 0x42;
const TAG_LOG_ID_NEW = 0x4a;
const TAG_HEADER_KEY = 0x0a;
const TAG_HEADER_VALUE = 0x12;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;
const MAX_GROUP_DEPTH = 32;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const UINT64_MAX = (1n << 64n) - 1n;
// Short ASCII strings are copied byte by byte; anything longer or wider goes through the native UTF-8 codec.
const SHORT_STRING = 48;

const utf8Slice = (Buffer.prototype as unknown as { utf8Slice(this: Uint8Array, start: number, end: number): string }).utf8Slice;

function varintSize(value: number): number {
  // Negative int32 values are sign-extended to ten bytes, as protobuf requires.
  if (value < 0) return 10;
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size += 1;
  }
  return size;
}

// A uint64 as a number when it is one exactly, or -1 when it needs the bigint path; out of range throws.
function uint64Number(value: bigint): number {
  if (value >= 0n && value <= MAX_SAFE) return Number(value);
  if (value < 0n || value > UINT64_MAX) throw new RangeError('uint64 out of range');
  return -1;
}

function uint64Size(value: bigint, asNumber: number): number {
  if (asNumber >= 0) return varintSize(asNumber);
  let size = 1;
  while (value >= 0x80n) {
    value >>= 7n;
    size += 1;
  }
  return size;
}

function utf8Length(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) length += 1;
    else if ((code & 0xfc00) === 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      length += 2; // a surrogate pair: two UTF-16 units, four bytes
      i += 1;
    } else length += 2;
  }
  return length;
}

class FrameWriter {
  pos = 0;

  constructor(readonly buf: Buffer) {}

  byte(value: number): void {
    this.buf[this.pos++] = value;
  }

  varint(value: number): void {
    if (value < 0) {
      this.uint64(BigInt.asUintN(64, BigInt(value)), -1);
      return;
    }
    const buf = this.buf;
    while (value >= 0x80) {
      buf[this.pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    buf[this.pos++] = value;
  }

  uint64(value: bigint, asNumber: number): void {
    if (asNumber >= 0) {
      this.varint(asNumber);
      return;
    }
    const buf = this.buf;
    while (value >= 0x80n) {
      buf[this.pos++] = Number(value & 0x7fn) | 0x80;
      value >>= 7n;
    }
    buf[this.pos++] = Number(value);
  }

  string(text: string, byteLength: number): void {
    this.varint(byteLength);
    if (byteLength === text.length && byteLength <= SHORT_STRING) {
      const buf = this.buf;
      for (let i = 0; i < byteLength; i += 1) buf[this.pos++] = text.charCodeAt(i);
      return;
    }
    this.buf.write(text, this.pos, byteLength, 'utf8');
    this.pos += byteLength;
  }

  bytes(value: Uint8Array): void {
    this.varint(value.byteLength);
    this.buf.set(value, this.pos);
    this.pos += value.byteLength;
  }
}

const stringField = (byteLength: number) => 1 + varintSize(byteLength) + byteLength;

export function encodeFrame(frame: Frame): Uint8Array {
  const seqId = uint64Number(frame.seqId);
  const logId = uint64Number(frame.logId);
  const { headers } = frame;
  // Byte lengths are measured once for sizing and reused for writing: key, value, header message.
  const headerLengths = new Array<number>(headers.length * 3);
  let size = 1 + uint64Size(frame.seqId, seqId) + 1 + uint64Size(frame.logId, logId) + 1 + varintSize(frame.service) + 1 + varintSize(frame.method);
  for (let i = 0; i < headers.length; i += 1) {
    const keyLength = utf8Length(headers[i].key);
    const valueLength = utf8Length(headers[i].value);
    const messageLength = stringField(keyLength) + stringField(valueLength);
    headerLengths[i * 3] = keyLength;
    headerLengths[i * 3 + 1] = valueLength;
    headerLengths[i * 3 + 2] = messageLength;
    size += stringField(messageLength);
  }
  const encodingLength = frame.payloadEncoding === undefined ? -1 : utf8Length(frame.payloadEncoding);
  const typeLength = frame.payloadType === undefined ? -1 : utf8Length(frame.payloadType);
  const logIdNewLength = frame.logIdNew === undefined ? -1 : utf8Length(frame.logIdNew);
  if (encodingLength >= 0) size += stringField(encodingLength);
  if (typeLength >= 0) size += stringField(typeLength);
  if (frame.payload !== undefined) size += stringField(frame.payload.byteLength);
  if (logIdNewLength >= 0) size += stringField(logIdNewLength);

  const out = new FrameWriter(Buffer.allocUnsafe(size));
  // The four required fields always go on the wire, even when 0: the SDK decoders reject a frame without them.
  out.byte(TAG_SEQ_ID);
  out.uint64(frame.seqId, seqId);
  out.byte(TAG_LOG_ID);
  out.uint64(frame.logId, logId);
  out.byte(TAG_SERVICE);
  out.varint(frame.service);
  out.byte(TAG_METHOD);
  out.varint(frame.method);
  for (let i = 0; i < headers.length; i += 1) {
    out.byte(TAG_HEADER);
    out.varint(headerLengths[i * 3 + 2]);
    out.byte(TAG_HEADER_KEY);
    out.string(headers[i].key, headerLengths[i * 3]);
    out.byte(TAG_HEADER_VALUE);
    out.string(headers[i].value, headerLengths[i * 3 + 1]);
  }
  if (encodingLength >= 0) {
    out.byte(TAG_PAYLOAD_ENCODING);
    out.string(frame.payloadEncoding as string, encodingLength);
  }
  if (typeLength >= 0) {
    out.byte(TAG_PAYLOAD_TYPE);
    out.string(frame.payloadType as string, typeLength);
  }
  if (frame.payload !== undefined) {
    out.byte(TAG_PAYLOAD);
    out.bytes(frame.payload);
  }
  if (logIdNewLength >= 0) {
    out.byte(TAG_LOG_ID_NEW);
    out.string(frame.logIdNew as string, logIdNewLength);
  }
  return out.buf;
}

class FrameReader {
  pos = 0;

  constructor(
    readonly buf: Uint8Array,
    public end: number,
  ) {}

  fail(reason: string): never {
    throw new FrameDecodeError(`undecodable frame: ${reason}`);
  }

  // Tags, lengths and int32 fields: the low 32 bits of the varint, as protobuf reads an int32.
  varint32(): number {
    const buf = this.buf;
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const byte = buf[this.pos++];
      if (shift < 32) value |= (byte & 0x7f) << shift;
      if (byte < 0x80) return value;
    }
    return this.fail('varint longer than ten bytes');
  }

  uint64(): bigint {
    const buf = this.buf;
    if (this.pos < this.end && buf[this.pos] === 0) {
      this.pos += 1;
      return 0n;
    }
    let low = 0;
    let scale = 1;
    // Up to seven bytes (49 bits) fit a double exactly; ids seen in practice never need more.
    for (let count = 0; count < 7; count += 1) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const byte = buf[this.pos++];
      low += (byte & 0x7f) * scale;
      if (byte < 0x80) return BigInt(low);
      scale *= 0x80;
    }
    let value = BigInt(low);
    for (let shift = 49n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const byte = buf[this.pos++];
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asUintN(64, value);
    }
    return this.fail('varint longer than ten bytes');
  }

  length(): number {
    const length = this.varint32();
    if (length < 0 || length > this.end - this.pos) this.fail('length beyond the end of the frame');
    return length;
  }

  string(): string {
    const length = this.length();
    const start = this.pos;
    const end = start + length;
    this.pos = end;
    if (length <= SHORT_STRING) {
      const buf = this.buf;
      let text = '';
      let i = start;
      for (; i < end && buf[i] < 0x80; i += 1) text += String.fromCharCode(buf[i]);
      if (i === end) return text;
    }
    return utf8Slice.call(this.buf, start, end);
  }

  bytes(): Uint8Array {
    const length = this.length();
    const start = this.pos;
    this.pos += length;
    return this.buf.subarray(start, this.pos);
  }

  // Unknown fields are skipped, as protobuf requires; groups are walked without recursion and nest only so deep.
  skip(tag: number): void {
    let depth = 0;
    for (;;) {
      const wireType = tag & 7;
      if (wireType === WIRE_VARINT) this.varint32();
      else if (wireType === WIRE_FIXED64) this.advance(8);
      else if (wireType === WIRE_LENGTH_DELIMITED) this.advance(this.length());
      else if (wireType === WIRE_FIXED32) this.advance(4);
      else if (wireType === WIRE_START_GROUP) {
        depth += 1;
        if (depth > MAX_GROUP_DEPTH) this.fail('groups nested too deep');
      } else if (wireType === WIRE_END_GROUP) {
        if (depth === 0) this.fail('end of a group that was never started');
        depth -= 1;
      } else this.fail(`invalid wire type ${wireType}`);
      if (depth === 0) return;
      tag = this.varint32();
    }
  }

  advance(count: number): void {
    if (count > this.end - this.pos) this.fail('field beyond the end of the frame');
    this.pos += count;
  }

  header(): FrameHeader {
    const length = this.length();
    const end = this.pos + length;
    const frameEnd = this.end;
    this.end = end;
    let key: string | undefined;
    let value: string | undefined;
    while (this.pos < end) {
      const tag = this.varint32();
      if (tag === TAG_HEADER_KEY) key = this.string();
      else if (tag === TAG_HEADER_VALUE) value = this.string();
      else this.field(tag);
    }
    this.end = frameEnd;
    if (key === undefined) this.fail("missing required 'key'");
    if (value === undefined) this.fail("missing required 'value'");
    return { key, value };
  }

  // A known field number with an unexpected wire type is an error, not an unknown field.
  field(tag: number): void {
    if (tag >>> 3 === 0) this.fail('field number 0');
    this.skip(tag);
  }
}

export function decodeFrame(bytes: Uint8Array): Frame {
  const reader: FrameReader = new FrameReader(bytes, bytes.byteLength);
  let seqId: bigint | undefined;
  let logId: bigint | undefined;
  let service: number | undefined;
  let method: number | undefined;
  const headers: FrameHeader[] = [];
  let payloadEncoding: string | undefined;
  let payloadType: string | undefined;
  let payload: Uint8Array | undefined;
  let logIdNew: string | undefined;
  while (reader.pos < reader.end) {
    const tag = reader.varint32();
    switch (tag) {
      case TAG_SEQ_ID:
        seqId = reader.uint64();
        break;
      case TAG_LOG_ID:
        logId = reader.uint64();
        break;
      case TAG_SERVICE:
        service = reader.varint32();
        break;
      case TAG_METHOD:
        method = reader.varint32();
        break;
      case TAG_HEADER:
        headers.push(reader.header());
        break;
      case TAG_PAYLOAD_ENCODING:
        payloadEncoding = reader.string();
        break;
      case TAG_PAYLOAD_TYPE:
        payloadType = reader.string();
        break;
      case TAG_PAYLOAD:
        payload = reader.bytes();
        break;
      case TAG_LOG_ID_NEW:
        logIdNew = reader.string();
        break;
      default:
        if (tag >>> 3 >= 1 && tag >>> 3 <= 9) reader.fail(`field ${tag >>> 3} with wire type ${tag & 7}`);
        reader.field(tag);
    }
  }
  if (seqId === undefined) reader.fail("missing required 'SeqID'");
  if (logId === undefined) reader.fail("missing required 'LogID'");
  if (service === undefined) reader.fail("missing required 'service'");
  if (method === undefined) reader.fail("missing required 'method'");
  const frame: Frame = { seqId, logId, service, method, headers };
  if (payloadEncoding !== undefined) frame.payloadEncoding = payloadEncoding;
  if (payloadType !== undefined) frame.payloadType = payloadType;
  if (payload !== undefined) frame.payload = payload;
  if (logIdNew !== undefined) frame.logIdNew = logIdNew;
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
