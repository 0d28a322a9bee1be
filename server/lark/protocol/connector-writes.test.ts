import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { eventDataFrame, waitFor } from '../test-support/fake-lark-ws';
import { runConnector, type ConnectorExit } from './connector';
import { decodeFrame, encodeFrame, getHeader, type Frame } from './frame';

// Many writes at once on one socket: ACKs of handlers that finish together, pongs to the
// platform's pings, and the client's own pings. Lark reads one protobuf frame per WebSocket
// message, so a write that interleaved with another would corrupt both.

const SERVICE_ID = 77;
const EVENTS = 300;

type Platform = {
  baseUrl: string;
  received: Frame[];
  undecodable: number;
  closedWith: number | null;
  socket: () => WebSocket | undefined;
  close: () => Promise<void>;
};

/** A bootstrap endpoint and a WebSocket that records every message it gets, refusing none. */
async function startPlatform(): Promise<Platform> {
  const http: Server = createServer((req, res) => {
    const port = (http.address() as AddressInfo).port;
    res.setHeader('content-type', 'application/json');
    // Pings every second from the client, on top of the ACK burst.
    res.end(JSON.stringify({ code: 0, data: { URL: `ws://127.0.0.1:${port}/ws?service_id=${SERVICE_ID}`, ClientConfig: { PingInterval: 1, ReconnectCount: -1, ReconnectInterval: 60, ReconnectNonce: 1 } } }));
    req.resume();
  });
  const wss = new WebSocketServer({ noServer: true });
  let live: WebSocket | undefined;
  const platform: Platform = {
    baseUrl: '',
    received: [],
    undecodable: 0,
    closedWith: null,
    socket: () => live,
    close: async () => {
      live?.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
  http.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => {
      live = ws;
      ws.on('message', (data: Buffer, isBinary) => {
        if (!isBinary) return;
        try {
          platform.received.push(decodeFrame(data));
        } catch {
          platform.undecodable += 1;
        }
      });
      ws.on('close', (code) => (platform.closedWith = code));
    }),
  );
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  platform.baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return platform;
}

let platform: Platform | undefined;
let stop: AbortController | undefined;
let exit: Promise<ConnectorExit> | undefined;
afterEach(async () => {
  stop?.abort();
  await exit;
  await platform?.close();
});

describe('connector writes', () => {
  it('never interleaves frames: hundreds of ACKs finishing at once, pongs and pings all arrive whole', async () => {
    platform = await startPlatform();
    // Every handler waits for the last event to arrive, then all of them answer in the same tick.
    let releaseAll: () => void = () => {};
    const allArrived = new Promise<void>((resolve) => (releaseAll = resolve));
    let arrived = 0;
    stop = new AbortController();
    exit = runConnector(
      {
        appId: 'cli_writes0000000001',
        appSecret: 'secret',
        openBaseUrl: platform.baseUrl,
        logger: pino({ level: 'silent' }),
        handlerTimeoutMs: 10_000,
        handler: async (delivery) => {
          arrived += 1;
          if (arrived === EVENTS) releaseAll();
          await allArrived;
          // Card-style response data makes each ACK a larger write than the bare verdict.
          return { verdict: 'ok', responseData: { toast: { type: 'info', content: `handled ${delivery.deliveryId} `.repeat(40) } } };
        },
      },
      stop.signal,
    );
    const socket = await waitFor(() => platform!.socket(), { what: 'connection' });
    const payload = new TextEncoder().encode(JSON.stringify({ schema: '2.0', header: { event_id: 'e' } }));
    for (let i = 0; i < EVENTS; i++) {
      socket.send(encodeFrame(eventDataFrame({ seqId: BigInt(i + 1), deliveryId: `d-${i}`, payload, service: SERVICE_ID })));
      // The platform's own pings, answered by pongs in the middle of the burst.
      if (i % 25 === 0) socket.send(encodeFrame({ seqId: BigInt(10_000 + i), logId: 0n, service: SERVICE_ID, method: 0, headers: [{ key: 'type', value: 'ping' }] }));
    }
    const acks = () => platform!.received.filter((f) => f.method === 1);
    await waitFor(() => acks().length >= EVENTS, { timeoutMs: 10_000, what: 'every ACK' });
    // Let a client ping or two go out after the burst as well.
    await new Promise((resolve) => setTimeout(resolve, 1200));

    expect(platform.undecodable).toBe(0);
    expect(platform.closedWith).toBeNull();
    const ids = acks().map((f) => getHeader(f, 'message_id'));
    expect(new Set(ids).size).toBe(EVENTS);
    expect(ids).toHaveLength(EVENTS);
    for (const ack of acks()) {
      const body = JSON.parse(new TextDecoder().decode(ack.payload)) as { code: number; data: string };
      expect(body.code).toBe(200);
      expect(Buffer.from(body.data, 'base64').toString('utf8')).toContain(`handled ${getHeader(ack, 'message_id')} `);
    }
    const control = platform.received.filter((f) => f.method === 0).map((f) => getHeader(f, 'type'));
    expect(control.filter((type) => type === 'pong')).toHaveLength(Math.ceil(EVENTS / 25));
    expect(control.filter((type) => type === 'ping').length).toBeGreaterThanOrEqual(2);
  });
});
