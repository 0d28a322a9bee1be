import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// The official Node SDK does not export its protobuf codec. Its bundle contains the protobufjs-generated
// `pbbp2` namespace; this evaluates exactly that section against the SDK's own protobufjs copy, so tests
// and benchmarks can compare our codec with the one the SDK really runs.

export type SdkHeader = { key: string; value: string };

export type SdkFrame = {
  SeqID: number;
  LogID: number;
  service: number;
  method: number;
  headers: SdkHeader[];
  payloadEncoding?: string;
  payloadType?: string;
  payload?: Uint8Array;
  LogIDNew?: string;
};

export type SdkFrameCodec = {
  encode: (frame: Partial<SdkFrame>) => Uint8Array;
  decode: (bytes: Uint8Array) => SdkFrame;
};

let cached: SdkFrameCodec | undefined;

export function loadSdkFrameCodec(): SdkFrameCodec {
  if (cached) return cached;
  const appRequire = createRequire(import.meta.url);
  const bundlePath = appRequire.resolve('@larksuiteoapi/node-sdk');
  const source = readFileSync(bundlePath, 'utf8');
  const start = source.indexOf('const $protobuf = require("protobufjs/minimal");');
  const end = source.indexOf('const decode = (buffer) =>', start);
  if (start === -1 || end === -1) throw new Error('pbbp2 codec not found in the SDK bundle');
  const section = source.slice(start, end);
  const sdkRequire = createRequire(bundlePath);
  const factory = new Function('require', `${section}\nreturn pbbp2;`) as (req: NodeRequire) => {
    Frame: { encode: (frame: object) => { finish: () => Uint8Array }; decode: (bytes: Uint8Array) => SdkFrame };
  };
  const pbbp2 = factory(sdkRequire);
  cached = {
    encode: (frame) => pbbp2.Frame.encode(frame).finish(),
    decode: (bytes) => pbbp2.Frame.decode(bytes),
  };
  return cached;
}
