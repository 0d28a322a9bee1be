import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

export const FrameMethod = { control: 0, data: 1 } as const;

export type FrameHeader = { key: string; value: string };

export type Frame = {
  SeqID: number;
  LogID: number;
  service: number;
  method: number;
  headers: FrameHeader[];
  payload?: Uint8Array;
  payload_encoding?: string;
  payload_type?: string;
  LogIDNew?: string;
};

const root = protobuf.loadSync(fileURLToPath(new URL('./pbbp2.proto', import.meta.url)));
const FrameType = root.lookupType('pbbp2.Frame');

// uint64 fields decode to Long when the `long` package is present; frames carry small ids only.
function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value && typeof value === 'object' && 'toNumber' in value) {
    return (value as { toNumber(): number }).toNumber();
  }
  return Number(value ?? 0);
}

export function encodeFrame(frame: Frame): Uint8Array {
  // The four required fields always go on the wire, even when 0 (peers' decoders reject frames without them).
  return FrameType.encode(
    FrameType.fromObject(frame),
  ).finish();
}

/** Throws when the bytes are not a valid pbbp2.Frame (including a missing required field). */
export function decodeFrame(bytes: Uint8Array): Frame {
  const message = FrameType.decode(bytes);
  const raw = FrameType.toObject(message, { defaults: false, arrays: true }) as Record<
    string,
    unknown
  >;
  return {
    SeqID: toNumber(raw.SeqID),
    LogID: toNumber(raw.LogID),
    service: toNumber(raw.service),
    method: toNumber(raw.method),
    headers: (raw.headers as FrameHeader[] | undefined) ?? [],
    payload: raw.payload as Uint8Array | undefined,
    payload_encoding: raw.payload_encoding as string | undefined,
    payload_type: raw.payload_type as string | undefined,
    LogIDNew: raw.LogIDNew as string | undefined,
  };
}

export function headerValue(frame: Frame, key: string): string | undefined {
  return frame.headers.find((h) => h.key === key)?.value;
}
