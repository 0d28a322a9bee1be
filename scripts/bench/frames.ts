// Frame codec and event client throughput.
//   npm run bench:frames -- [--seconds 1] [--events 2000] [--concurrency 32] [--runs 7]
// 1. Encode+decode throughput of our pbbp2 codec against the official SDK's codec on the same frames
//    (ping, ACK, a 2 KB event data frame). Goal: ours >= 1.25x the SDK.
// 2. Events per second through our connector and through the official SDK's WSClient, each against
//    its own fresh in-process simulator with default settings, the same event count and the same
//    concurrent senders. The simulator's own records give the figure: events it sent and saw ACKed
//    with 200, from its first send to its last ACK. Goal: ours/SDK >= 1.0.
// 3. Both clients' own ceiling against a local scripted endpoint that pushes ready-made frames.
// The machine is shared, so every comparison warms both sides up, alternates their runs (ABBA) and
// reports the median next to each run and the load average; the codecs, fast enough to compare in
// quarter-second slices, are compared pair by pair.
import http from 'node:http';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { EventDispatcher, LoggerLevel, WSClient } from '@larksuiteoapi/node-sdk';
import pino from 'pino';
import { buildAckFrame, buildPingFrame, decodeFrame, encodeFrame, type Frame } from '@/server/lark/protocol/frame';
import { runConnector } from '@/server/lark/protocol/connector';
import { decodeInboundEvent } from '@/server/lark/protocol/event-decoder';
import { loadSdkFrameCodec, type SdkFrame } from '@/server/lark/test-support/sdk-frame-codec';
import { eventDataFrame, startFakeLarkWs } from '@/server/lark/test-support/fake-lark-ws';
import { SimControl, type SimApp } from '@/server/lark/test-support/sim-control';
import { startSimulator } from '@/simulator/server';

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? Number.NaN : Number(process.argv[index + 1]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const seconds = argument('seconds', 1);
const eventCount = Math.round(argument('events', 2000));
const concurrency = Math.round(argument('concurrency', 32));
// Fewer than three runs per side gives no meaningful median.
const runs = Math.max(3, Math.round(argument('runs', 7)));

const CODEC_GOAL = 1.25;
const CLIENT_GOAL = 1.0;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const rate = (value: number) => Math.round(value).toLocaleString('en-US');

function loadAverage(): string {
  return os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

function verdict(ratio: number, goal: number): string {
  return ratio >= goal ? 'MET' : 'MISSED';
}

// ABBA order: a slow drift of the machine's load hits both sides equally.
function alternating<T>(index: number, a: T, b: T): [T, T] {
  return index % 2 === 0 ? [a, b] : [b, a];
}

// ---------------------------------------------------------------------------------------------------
// 1. Codec

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

// One timed run of `roundTrip` over the frame set, for about `slice` seconds; returns frames per second.
function timedRun(roundTrip: () => void, framesPerRound: number, slice: number): number {
  let rounds = 0;
  const startedAt = performance.now();
  const until = startedAt + slice * 1000;
  let now = startedAt;
  while (now < until) {
    for (let i = 0; i < 200; i += 1) roundTrip();
    rounds += 200;
    now = performance.now();
  }
  return (rounds * framesPerRound) / ((now - startedAt) / 1000);
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
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
  const load = loadAverage();
  // The machine's speed drifts by tens of percent within seconds, so the codecs run in short slices,
  // side by side, and each pair of neighbouring slices gives one ratio; the figure is their median.
  const slice = seconds / 4;
  const pairs = runs * 4;
  const oursRates: number[] = [];
  const sdkRates: number[] = [];
  const ratios: number[] = [];
  const sides = {
    ours: () => oursRates.push(timedRun(oursRoundTrip, ours.length, slice)),
    sdk: () => sdkRates.push(timedRun(sdkRoundTrip, theirs.length, slice)),
  };
  for (let pair = 0; pair < pairs; pair += 1) {
    for (const side of alternating(pair, sides.ours, sides.sdk)) side();
    ratios.push(oursRates[pair] / sdkRates[pair]);
  }
  const ratio = median(ratios);
  console.log(
    `frame codec: encode+decode of ping, ACK and a 2 KB event frame (${pairs} alternating pairs of ${slice} s slices; load average ${load})`,
  );
  console.log(`  ours ${rate(median(oursRates))} frames/s median (slowest ${rate(Math.min(...oursRates))}, fastest ${rate(Math.max(...oursRates))})`);
  console.log(`  sdk  ${rate(median(sdkRates))} frames/s median (slowest ${rate(Math.min(...sdkRates))}, fastest ${rate(Math.max(...sdkRates))})`);
  console.log(
    `  ratio ours/sdk ${ratio.toFixed(2)}, median of the pairs (quartiles ${quantile(ratios, 0.25).toFixed(2)}-${quantile(ratios, 0.75).toFixed(2)}; goal >= ${CODEC_GOAL.toFixed(2)}: ${verdict(ratio, CODEC_GOAL)})`,
  );
  if (sink < 0) console.log(sink);
}

// ---------------------------------------------------------------------------------------------------
// 2. Our connector and the SDK's WSClient against the simulator

type StartedClient = { stop: () => Promise<void> };
type ClientUnderTest = {
  name: 'ours' | 'sdk';
  // Anything either client logs at warn or above during a run: it makes the run suspect.
  complaints: string[];
  start: (app: SimApp, openBaseUrl: string) => StartedClient;
};

function ourConnector(): ClientUnderTest {
  const complaints: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      complaints.push(chunk.toString('utf8').trim());
      callback();
    },
  });
  const logger = pino({ level: 'warn' }, sink);
  return {
    name: 'ours',
    complaints,
    start(app, openBaseUrl) {
      const controller = new AbortController();
      const exit = runConnector(
        {
          appId: app.app_id,
          appSecret: app.app_secret,
          openBaseUrl,
          logger,
          // The SDK's dispatcher parses every event before its no-op handler runs; our equivalent
          // of that work is the event decoder the product runs on each payload.
          handler: async (delivery) => (decodeInboundEvent(delivery.payload).kind === 'message' ? 'ok' : 'ignored'),
        },
        controller.signal,
      );
      return {
        stop: async () => {
          controller.abort();
          await exit;
        },
      };
    },
  };
}

function sdkWsClient(): ClientUnderTest {
  const complaints: string[] = [];
  const complain = (...msg: unknown[]) => {
    complaints.push(JSON.stringify(msg));
  };
  const logger = { error: complain, warn: complain, info() {}, debug() {}, trace() {} };
  return {
    name: 'sdk',
    complaints,
    start(app, openBaseUrl) {
      const dispatcher = new EventDispatcher({ logger, loggerLevel: LoggerLevel.warn }).register({
        'im.message.receive_v1': async () => undefined,
      });
      const client = new WSClient({ appId: app.app_id, appSecret: app.app_secret, domain: openBaseUrl, logger, loggerLevel: LoggerLevel.warn });
      void client.start({ eventDispatcher: dispatcher });
      return {
        stop: async () => {
          client.close({ force: true });
        },
      };
    },
  };
}

// The senders post to the control API over keep-alive node:http rather than fetch: fetch's own
// per-request machinery cost several times what the simulator and either client spend per event,
// and would drown the difference being measured. Both clients get exactly the same senders.
function controlPoster(simUrl: string): { post: (path: string, body: unknown) => Promise<void>; close: () => void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const base = new URL(simUrl);
  return {
    post: (path, body) =>
      new Promise<void>((resolve, reject) => {
        const data = JSON.stringify(body);
        const request = http.request(
          {
            agent,
            host: base.hostname,
            port: base.port,
            path: `/_control${path}`,
            method: 'POST',
            headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) },
          },
          (response) => {
            let text = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => (text += chunk));
            response.on('end', () => {
              const status = response.statusCode ?? 0;
              if (status >= 200 && status < 300) resolve();
              else reject(new Error(`control POST ${path} -> ${status}: ${text.slice(0, 200)}`));
            });
          },
        );
        request.on('error', reject);
        request.end(data);
      }),
    close: () => agent.destroy(),
  };
}

// cpuUsPerEvent: this process's CPU time while sending (simulator, senders and client together) per
// event, a cross-check that is less sensitive than wall time to other load on the machine.
type SimRun = { eventsPerSecond: number; elapsedS: number; sendingS: number; cpuUsPerEvent: number; redeliveries: number };

async function waitUntil(probe: () => Promise<boolean>, what: string, timeoutMs: number, intervalMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

// One run on a fresh simulator: nothing left over from an earlier run (chats, delivery log, JIT-cold
// state of one app) can favour either side.
async function simulatorRun(client: ClientUnderTest, events: number): Promise<SimRun> {
  const sim = await startSimulator({ port: 0 });
  const control = new SimControl(sim.url);
  let started: StartedClient | undefined;
  try {
    const tenant = (await control.createTenant('feishu', 'Bench')).tenant_key;
    const user = await control.createUser(tenant, 'Bench User');
    const app = await control.createApp(tenant, `Bench Bot ${client.name}`, user.id);
    started = client.start(app, control.brandRoot('feishu'));
    await waitUntil(async () => (await control.getApp(app.app_id)).connections === 1, `${client.name} to connect`, 10_000, 5);

    const poster = controlPoster(sim.url);
    const cpuBefore = process.cpuUsage();
    const sendingStartedAt = performance.now();
    let next = 0;
    const sender = async () => {
      while (next < events) {
        next += 1;
        await poster.post('/messages', { user_id: user.id, app_id: app.app_id, text: `event ${next}` });
      }
    };
    try {
      await Promise.all(Array.from({ length: concurrency }, sender));
    } finally {
      poster.close();
    }
    const sendingS = (performance.now() - sendingStartedAt) / 1000;
    const cpu = process.cpuUsage(cpuBefore);

    // Only polled once every event is out, so the poll does not compete with the run itself.
    let deliveries = await control.deliveries(app.app_id);
    const settled = () => deliveries.length === events && deliveries.every((delivery) => delivery.status !== 'pending');
    await waitUntil(
      async () => {
        deliveries = await control.deliveries(app.app_id);
        return settled();
      },
      `${client.name} to ACK ${events} events`,
      30_000,
      20,
    );
    const failed = deliveries.filter((delivery) => delivery.status !== 'acked').length;
    if (failed > 0) throw new Error(`${client.name}: ${failed} of ${events} events were never ACKed with 200`);
    const firstSendAt = Math.min(...deliveries.map((delivery) => delivery.created_at));
    const lastAckAt = Math.max(...deliveries.flatMap((delivery) => delivery.acks.filter((ack) => ack.code === 200).map((ack) => Number(ack.at))));
    const elapsedS = Math.max(1, lastAckAt - firstSendAt) / 1000;
    return {
      eventsPerSecond: events / elapsedS,
      elapsedS,
      sendingS,
      cpuUsPerEvent: (cpu.user + cpu.system) / events,
      redeliveries: deliveries.reduce((sum, delivery) => sum + delivery.attempts - 1, 0),
    };
  } finally {
    await started?.stop();
    await sim.close();
  }
}

async function benchClients(): Promise<void> {
  const ours = ourConnector();
  const sdk = sdkWsClient();
  const loadBefore = loadAverage();
  // Warm-up, not reported: the JIT needs a few thousand events before either side runs at its pace.
  for (let run = 0; run < 2; run += 1) for (const client of alternating(run, ours, sdk)) await simulatorRun(client, eventCount);
  const results: Record<ClientUnderTest['name'], SimRun[]> = { ours: [], sdk: [] };
  for (let run = 0; run < runs; run += 1) {
    for (const client of alternating(run, ours, sdk)) {
      await sleep(200);
      results[client.name].push(await simulatorRun(client, eventCount));
    }
  }
  const loadAfter = loadAverage();
  const oursMedian = median(results.ours.map((run) => run.eventsPerSecond));
  const sdkMedian = median(results.sdk.map((run) => run.eventsPerSecond));
  const ratio = oursMedian / sdkMedian;
  console.log(
    `event clients: ${eventCount} events per run from ${concurrency} concurrent senders through the control API, a fresh in-process simulator per run (default settings), ${runs} alternating runs per client`,
  );
  console.log(`  events/s = events the simulator sent and saw ACKed with 200, from its first send to its last ACK`);
  console.log(`  load average before ${loadBefore}, after ${loadAfter}`);
  for (const client of [ours, sdk]) {
    const label = client.name === 'ours' ? 'ours (connector)' : 'sdk (WSClient)  ';
    const perRun = results[client.name].map((run) => `${rate(run.eventsPerSecond)} (${run.elapsedS.toFixed(2)} s)`).join(', ');
    console.log(`  ${label} ${rate(median(results[client.name].map((run) => run.eventsPerSecond)))} events/s median (runs: ${perRun})`);
    console.log(`    process CPU per event ${Math.round(median(results[client.name].map((run) => run.cpuUsPerEvent)))} µs median (simulator, senders and client together)`);
    const redeliveries = results[client.name].reduce((sum, run) => sum + run.redeliveries, 0);
    if (redeliveries > 0) console.log(`    ${client.name}: ${redeliveries} redeliveries (ACK later than the simulator's timeout)`);
    if (client.complaints.length > 0) console.log(`    ${client.name} logged ${client.complaints.length} warnings, first: ${client.complaints[0].slice(0, 300)}`);
  }
  const sendingMedian = median([...results.ours, ...results.sdk].map((run) => run.sendingS));
  console.log(`  sending through the control API took ${sendingMedian.toFixed(2)} s (median over all runs)`);
  console.log(`  ratio ours/sdk ${ratio.toFixed(2)} (goal >= ${CLIENT_GOAL.toFixed(2)}: ${verdict(ratio, CLIENT_GOAL)})`);
}

// ---------------------------------------------------------------------------------------------------
// 3. The clients' own ceiling: a scripted local endpoint pushes ready-made event frames as fast as it can
//    and counts the ACKs that come back.

function receiveEnvelope(index: number): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      schema: '2.0',
      header: {
        event_id: `ev-${index}`,
        event_type: 'im.message.receive_v1',
        create_time: '1700000000000',
        token: '',
        app_id: 'cli_0123456789abcdef',
        tenant_key: 'tenant-bench',
      },
      event: {
        sender: { sender_id: { open_id: 'ou_bench', union_id: 'on_bench', user_id: 'u_bench' }, sender_type: 'user', tenant_key: 'tenant-bench' },
        message: {
          message_id: `om_${index}`,
          create_time: '1700000000000',
          chat_id: 'oc_bench',
          chat_type: 'p2p',
          message_type: 'text',
          content: JSON.stringify({ text: `event ${index} ${'x'.repeat(1400)}` }),
        },
      },
    }),
  );
}

async function aloneRun(client: ClientUnderTest, events: number): Promise<number> {
  const fake = await startFakeLarkWs();
  const started = client.start(
    { app_id: 'cli_0123456789abcdef', app_secret: 'bench', brand: 'feishu', tenant_key: 'tenant-bench', name: 'Bench' },
    fake.baseUrl,
  );
  try {
    const frames = Array.from({ length: events }, (_, i) => encodeFrame(eventDataFrame({ seqId: BigInt(i + 1), deliveryId: `bench-${i}`, payload: receiveEnvelope(i), service: fake.serviceId })));
    while (fake.connections.length === 0 || fake.connections[0].frames.length === 0) await sleep(5);
    const connection = fake.connections[0];
    let acked = 0;
    let done: () => void = () => undefined;
    const allAcked = new Promise<void>((resolve) => (done = resolve));
    // Runs after the endpoint's own listener has decoded and recorded the frame.
    connection.socket.on('message', () => {
      if (connection.frames[connection.frames.length - 1]?.method === 1 && ++acked === events) done();
    });
    const startedAt = performance.now();
    for (const frame of frames) connection.socket.send(frame);
    await allAcked;
    return events / ((performance.now() - startedAt) / 1000);
  } finally {
    await started.stop();
    await fake.close();
  }
}

async function benchClientsAlone(): Promise<void> {
  const ours = ourConnector();
  const sdk = sdkWsClient();
  for (let run = 0; run < 2; run += 1) for (const client of alternating(run, ours, sdk)) await aloneRun(client, eventCount);
  const results: Record<ClientUnderTest['name'], number[]> = { ours: [], sdk: [] };
  for (let run = 0; run < runs; run += 1) for (const client of alternating(run, ours, sdk)) results[client.name].push(await aloneRun(client, eventCount));
  const ratio = median(results.ours) / median(results.sdk);
  console.log(`clients alone: ${eventCount} events pushed by a local scripted endpoint, until the last ACK (${runs} alternating runs; load average ${loadAverage()})`);
  console.log(`  ours (connector) ${rate(median(results.ours))} events/s median (runs: ${results.ours.map(rate).join(', ')})`);
  console.log(`  sdk (WSClient)   ${rate(median(results.sdk))} events/s median (runs: ${results.sdk.map(rate).join(', ')})`);
  console.log(`  ratio ours/sdk ${ratio.toFixed(2)}`);
  for (const client of [ours, sdk]) {
    if (client.complaints.length > 0) console.log(`    ${client.name} logged ${client.complaints.length} warnings, first: ${client.complaints[0].slice(0, 300)}`);
  }
}

benchCodecs();
await benchClients();
await benchClientsAlone();
