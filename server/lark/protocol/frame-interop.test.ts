import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as lark from '@larksuiteoapi/node-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { loadSdkFrameCodec, type SdkFrame } from '../test-support/sdk-frame-codec';
import { buildAckFrame, buildPingFrame, buildPongFrame, decodeFrame, encodeFrame, getHeader, type Frame } from './frame';

const sdk = loadSdkFrameCodec();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function sampleFrames(): Frame[] {
  const event: Frame = {
    seqId: 123_456_789n,
    logId: 987_654_321_012n,
    service: 4242,
    method: 1,
    headers: [
      { key: 'type', value: 'event' },
      { key: 'message_id', value: 'd-1' },
      { key: 'sum', value: '1' },
      { key: 'seq', value: '0' },
      { key: 'trace_id', value: 't-1' },
    ],
    payload: encoder.encode(JSON.stringify({ schema: '2.0', header: { event_type: 'im.message.receive_v1' } })),
  };
  return [
    buildPingFrame(4242),
    buildPongFrame({ seqId: 0n, logId: 0n, service: 4242 }, encoder.encode('{"PingInterval":3}')),
    event,
    buildAckFrame(event, { code: 200, bizRtMs: 5 }),
    buildAckFrame(event, { code: 500, bizRtMs: 0 }),
    { ...event, payloadEncoding: 'none', payloadType: 'json', logIdNew: 'lg-2' },
    { seqId: 0n, logId: 0n, service: 0, method: 0, headers: [] },
  ];
}

function expectSameFrame(ours: Frame, theirs: SdkFrame): void {
  expect(BigInt(theirs.SeqID)).toBe(ours.seqId);
  expect(BigInt(theirs.LogID)).toBe(ours.logId);
  expect(theirs.service).toBe(ours.service);
  expect(theirs.method).toBe(ours.method);
  expect(theirs.headers.map((h) => ({ key: h.key, value: h.value }))).toEqual(ours.headers);
  const has = (key: string) => Object.prototype.hasOwnProperty.call(theirs, key);
  expect(has('payload') ? Array.from(theirs.payload ?? []) : undefined).toEqual(ours.payload ? Array.from(ours.payload) : undefined);
  expect(has('payloadEncoding') ? theirs.payloadEncoding : undefined).toBe(ours.payloadEncoding);
  expect(has('payloadType') ? theirs.payloadType : undefined).toBe(ours.payloadType);
  expect(has('LogIDNew') ? theirs.LogIDNew : undefined).toBe(ours.logIdNew);
}

describe('frame codec interop with the official SDK codec', () => {
  it('our frames decode with the SDK decoder, field by field', () => {
    for (const frame of sampleFrames()) expectSameFrame(frame, sdk.decode(encodeFrame(frame)));
  });

  it('SDK-encoded frames decode with our decoder, field by field', () => {
    for (const frame of sampleFrames()) {
      const sdkInput: Partial<SdkFrame> = {
        SeqID: Number(frame.seqId),
        LogID: Number(frame.logId),
        service: frame.service,
        method: frame.method,
        headers: frame.headers,
      };
      if (frame.payload) sdkInput.payload = frame.payload;
      if (frame.payloadEncoding !== undefined) sdkInput.payloadEncoding = frame.payloadEncoding;
      if (frame.payloadType !== undefined) sdkInput.payloadType = frame.payloadType;
      if (frame.logIdNew !== undefined) sdkInput.LogIDNew = frame.logIdNew;
      const ours = decodeFrame(sdk.encode(sdkInput));
      expectSameFrame(ours, sdk.decode(encodeFrame(ours)));
      expect(ours).toEqual({ ...frame, ...(frame.payload ? { payload: expect.any(Uint8Array) } : {}) });
    }
  });
});

type TinyLark = { server: Server; wss: WebSocketServer; url: string; sockets: WebSocket[]; inbound: Frame[][] };

async function startTinyLark(onConnection: (socket: WebSocket, inbound: Frame[]) => void): Promise<TinyLark> {
  const server = createServer();
  const wss = new WebSocketServer({ server, path: '/ws' });
  const tiny: TinyLark = { server, wss, url: '', sockets: [], inbound: [] };
  server.on('request', (request, response) => {
    if (request.method === 'POST' && request.url === '/callback/ws/endpoint') {
      const port = (server.address() as AddressInfo).port;
      response.setHeader('Content-Type', 'application/json');
      response.end(
        JSON.stringify({
          code: 0,
          data: {
            // fpid first: the SDK's URL parser drops the first query parameter, as on the real platform.
            URL: `ws://127.0.0.1:${port}/ws?fpid=1&aid=2&device_id=dev&access_key=key&service_id=4242&ticket=tk`,
            ClientConfig: { PingInterval: 120, ReconnectCount: -1, ReconnectInterval: 120, ReconnectNonce: 30 },
          },
        }),
      );
      return;
    }
    response.statusCode = 404;
    response.end();
  });
  wss.on('connection', (socket) => {
    const inbound: Frame[] = [];
    tiny.sockets.push(socket);
    tiny.inbound.push(inbound);
    socket.on('message', (data) => inbound.push(decodeFrame(data as Buffer)));
    onConnection(socket, inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tiny.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return tiny;
}

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function receiveEvent(messageText: string) {
  return {
    schema: '2.0',
    header: {
      event_id: 'ev-interop-1',
      event_type: 'im.message.receive_v1',
      create_time: '1700000000000',
      token: '',
      app_id: 'cli_0123456789abcdef',
      tenant_key: 'tk-1',
    },
    event: {
      sender: { sender_id: { open_id: 'ou_a', union_id: 'on_a', user_id: 'u_a' }, sender_type: 'user', tenant_key: 'tk-1' },
      message: {
        message_id: 'om_1',
        chat_id: 'oc_1',
        chat_type: 'p2p',
        message_type: 'text',
        content: JSON.stringify({ text: messageText }),
        create_time: '1700000000000',
      },
    },
  };
}

describe('live interop: the official SDK WSClient against frames from our codec', () => {
  let tiny: TinyLark | undefined;
  let client: lark.WSClient | undefined;

  afterEach(async () => {
    client?.close({ force: true });
    client = undefined;
    if (tiny) {
      for (const socket of tiny.sockets) socket.terminate();
      tiny.wss.close();
      await new Promise((resolve) => tiny?.server.close(resolve));
      tiny = undefined;
    }
  });

  it('decodes the SDK ping and ACK with our codec and feeds it our event frames (whole and chunked)', async () => {
    const received: string[] = [];
    tiny = await startTinyLark(() => undefined);
    const dispatcher = new lark.EventDispatcher({ loggerLevel: lark.LoggerLevel.error }).register({
      'im.message.receive_v1': async (data: { message: { content: string } }) => {
        received.push(JSON.parse(data.message.content).text as string);
      },
    });
    client = new lark.WSClient({
      appId: 'cli_0123456789abcdef',
      appSecret: 'secret',
      domain: tiny.url,
      loggerLevel: lark.LoggerLevel.error,
    });
    void client.start({ eventDispatcher: dispatcher });

    await waitUntil(() => (tiny?.inbound[0]?.length ?? 0) >= 1);
    const ping = tiny.inbound[0][0];
    expect(ping).toEqual({ seqId: 0n, logId: 0n, service: 4242, method: 0, headers: [{ key: 'type', value: 'ping' }] });

    const socket = tiny.sockets[0];
    const whole: Frame = {
      seqId: 555n,
      logId: 777n,
      service: 4242,
      method: 1,
      headers: [
        { key: 'type', value: 'event' },
        { key: 'message_id', value: 'd-whole' },
        { key: 'sum', value: '1' },
        { key: 'seq', value: '0' },
        { key: 'trace_id', value: 'tr-1' },
      ],
      payload: encoder.encode(JSON.stringify(receiveEvent('hello from our codec'))),
    };
    socket.send(encodeFrame(whole));
    await waitUntil(() => tiny!.inbound[0].some((f) => f.method === 1));
    const ack = tiny.inbound[0].find((f) => f.method === 1) as Frame;
    expect(ack.seqId).toBe(555n);
    expect(ack.logId).toBe(777n);
    expect(ack.service).toBe(4242);
    expect(ack.headers.slice(0, 5)).toEqual(whole.headers);
    expect(ack.headers[5].key).toBe('biz_rt');
    expect(JSON.parse(decoder.decode(ack.payload))).toMatchObject({ code: 200 });
    expect(received).toEqual(['hello from our codec']);

    const chunkedBytes = encoder.encode(JSON.stringify(receiveEvent('chunked text')));
    const cut = Math.floor(chunkedBytes.length / 2);
    const chunk = (seq: number, part: Uint8Array): Frame => ({
      seqId: 600n + BigInt(seq),
      logId: 800n,
      service: 4242,
      method: 1,
      headers: [
        { key: 'type', value: 'event' },
        { key: 'message_id', value: 'd-chunked' },
        { key: 'sum', value: '2' },
        { key: 'seq', value: String(seq) },
        { key: 'trace_id', value: 'tr-2' },
      ],
      payload: part,
    });
    socket.send(encodeFrame(chunk(1, chunkedBytes.slice(cut))));
    socket.send(encodeFrame(chunk(0, chunkedBytes.slice(0, cut))));
    await waitUntil(() => received.length === 2);
    await waitUntil(() => tiny!.inbound[0].filter((f) => f.method === 1).length === 2);
    const chunkAck = tiny.inbound[0].filter((f) => f.method === 1)[1];
    expect(received[1]).toBe('chunked text');
    // The SDK ACKs on the frame that completed the message.
    expect(chunkAck.seqId).toBe(600n);
    expect(getHeader(chunkAck, 'seq')).toBe('0');
  });
});
