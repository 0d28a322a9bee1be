// Frame codec and connector throughput.
//   npm run bench:frames -- [--seconds 1] [--events 2000] [--concurrency 32]
// Prints encode+decode throughput of our pbbp2 codec against the official SDK's codec on the same frames
// (ping, ACK, a 2 KB event data frame), then events per second through one connector, ACKs included,
// against the in-process simulator.
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { buildAckFrame, buildPingFrame, decodeFrame, encodeFrame, type Frame } from '@/server/lark/protocol/frame';
import { runConnector } from '@/server/lark/protocol/connector';
import { loadSdkFrameCodec, type SdkFrame } from '@/server/lark/test-support/sdk-frame-codec';
import { eventDataFrame, startFakeLarkWs } from '@/server/lark/test-support/fake-lark-ws';
import { SimControl } from '@/server/lark/test-support/sim-control';
import { startSimulator } from '@/simulator/server';

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? Number.NaN : Number(process.argv[index + 1]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const seconds = argument('seconds', 1);
const eventCount = argument('events', 2000);
const concurrency = argument('concurrency', 32);

function sampleFrames(): Frame[] {
  const body = JSON.stringify({
    schema: '2.0',
    header: { event_id: 'e'.repeat(32), event_type: 'im.message.receive_v1', create_time: '1700000000000', app_id: 'cli_0123456789abcdef' },
    event: { message: { content: JSON.stringify({ text: 'x'.repeat(1600) }) } },
  });
  const event: Frame = {
    seqId: 123_456n,
    logId: 9_876_543_210n,
    service: 4242,
    method: 1,
    headers: [
      { key: 'type', value: 'event' },
      { key: 'message_id', value: 'a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d' },
      { key: 'sum', value: '1' },
      { key: 'seq', value: '0' },
      { key: 'trace_id', value: 'f00dfeed-1234' },
    ],
    payload: new TextEncoder().encode(body.padEnd(2048, ' ')),
  };
  return [buildPingFrame(4242), buildAckFrame(event, { code: 200, bizRtMs: 3 }), event];
}

function toSdkFrame(frame: Frame): Partial<SdkFrame> {
  const sdkFrame: Partial<SdkFrame> = {
    SeqID: Number(frame.seqId),
    LogID: Number(frame.logId),
    service: frame.service,
    method: frame.method,
    headers: frame.headers,
  };
  if (frame.payload) sdkFrame.payload = frame.payload;
  return sdkFrame;
}

// One timed run of `roundTrip` over the frame set, for about `seconds`; returns frames per second.
function timedRun(roundTrip: () => void, framesPerRound: number): number {
  let rounds = 0;
  const startedAt = performance.now();
  const until = startedAt + seconds * 1000;
  let now = startedAt;
  while (now < until) {
    for (let i = 0; i < 200; i += 1) roundTrip();
    rounds += 200;
    now = performance.now();
  }
  return (rounds * framesPerRound) / ((now - startedAt) / 1000);
}

function benchCodecs(): void {
  const ours = sampleFrames();
  const sdk = loadSdkFrameCodec();
  const theirs = ours.map(toSdkFrame);
  let sink = 0;
  const oursRoundTrip = () => {
    for (const frame of ours) sink += decodeFrame(encodeFrame(frame)).headers.length;
  };
  const sdkRoundTrip = () => {
    for (const frame of theirs) sink += sdk.decode(sdk.encode(frame)).headers.length;
  };
  for (let i = 0; i < 20_000; i += 1) {
    oursRoundTrip();
    sdkRoundTrip();
  }
  // Alternating runs, best of each: the machine is shared, so a single run says little.
  let oursRate = 0;
  let sdkRate = 0;
  for (let run = 0; run < 4; run += 1) {
    oursRate = Math.max(oursRate, timedRun(oursRoundTrip, ours.length));
    sdkRate = Math.max(sdkRate, timedRun(sdkRoundTrip, theirs.length));
  }
  console.log('frame codec: encode+decode of ping, ACK and a 2 KB event frame');
  console.log(`  ours ${Math.round(oursRate).toLocaleString('en-US')} frames/s`);
  console.log(`  sdk  ${Math.round(sdkRate).toLocaleString('en-US')} frames/s`);
  console.log(`  ratio ours/sdk ${(oursRate / sdkRate).toFixed(2)}`);
  if (sink < 0) console.log(sink);
}

async function benchConnector(): Promise<void> {
  const sim = await startSimulator({ port: 0 });
  const control = new SimControl(sim.url);
  const controller = new AbortController();
  try {
    const tenant = (await control.createTenant('feishu', 'Bench')).tenant_key;
    const user = await control.createUser(tenant, 'Bench User');
    const app = await control.createApp(tenant, 'Bench Bot', user.id);
    let acked = 0;
    let done: () => void = () => undefined;
    const allAcked = new Promise<void>((resolve) => (done = resolve));
    let connected: () => void = () => undefined;
    const isConnected = new Promise<void>((resolve) => (connected = resolve));
    const exit = runConnector(
      {
        appId: app.app_id,
        appSecret: app.app_secret,
        openBaseUrl: control.brandRoot('feishu'),
        logger: pino({ level: 'silent' }),
        handler: async () => 'ok',
        onStatus: (status) => status.state === 'connected' && connected(),
        onAck: () => {
          acked += 1;
          if (acked === eventCount) done();
        },
      },
      controller.signal,
    );
    await isConnected;
    const startedAt = performance.now();
    let next = 0;
    const sender = async () => {
      while (next < eventCount) {
        next += 1;
        await control.sendMessage({ user_id: user.id, app_id: app.app_id, text: `event ${next}` });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, sender));
    const sentAt = performance.now();
    await allAcked;
    const elapsedS = (performance.now() - startedAt) / 1000;
    console.log(`connector: ${eventCount} events through one connection against the in-process simulator (${concurrency} concurrent senders)`);
    console.log(`  ${Math.round(eventCount / elapsedS).toLocaleString('en-US')} events/s until the last ACK (${elapsedS.toFixed(2)} s)`);
    console.log(`  sending through the control API took ${((sentAt - startedAt) / 1000).toFixed(2)} s`);
    controller.abort();
    await exit;
  } finally {
    controller.abort();
    await sim.close();
  }
}

// The connector's own ceiling: a scripted local endpoint pushes ready-made event frames as fast as it can.
async function benchConnectorAlone(): Promise<void> {
  const fake = await startFakeLarkWs();
  const controller = new AbortController();
  try {
    let acked = 0;
    let done: () => void = () => undefined;
    const allAcked = new Promise<void>((resolve) => (done = resolve));
    const exit = runConnector(
      {
        appId: 'cli_0123456789abcdef',
        appSecret: 'bench',
        openBaseUrl: fake.baseUrl,
        logger: pino({ level: 'silent' }),
        handler: async () => 'ok',
        onAck: () => {
          acked += 1;
          if (acked === eventCount) done();
        },
      },
      controller.signal,
    );
    while (fake.connections.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const connection = fake.connections[0];
    const payload = new TextEncoder().encode(JSON.stringify({ schema: '2.0', text: 'x'.repeat(1500) }));
    const startedAt = performance.now();
    for (let i = 0; i < eventCount; i += 1) {
      connection.send(eventDataFrame({ seqId: BigInt(i + 1), deliveryId: `bench-${i}`, payload }));
    }
    await allAcked;
    const elapsedS = (performance.now() - startedAt) / 1000;
    console.log(`connector alone: ${eventCount} events pushed by a local scripted endpoint`);
    console.log(`  ${Math.round(eventCount / elapsedS).toLocaleString('en-US')} events/s until the last ACK (${elapsedS.toFixed(2)} s)`);
    controller.abort();
    await exit;
  } finally {
    controller.abort();
    await fake.close();
  }
}

benchCodecs();
await benchConnector();
await benchConnectorAlone();
