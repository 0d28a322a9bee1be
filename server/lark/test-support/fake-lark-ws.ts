import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeFrame, encodeFrame, type Frame } from '../protocol/frame';

// A minimal scripted Lark long-connection endpoint for connector unit tests: the bootstrap endpoint and a
// WebSocket server speaking pbbp2 through our own codec. Tests drive it frame by frame.

export type BootstrapRequest = { headers: IncomingMessage['headers']; body: unknown };

export type FakeConnection = {
  socket: WebSocket;
  query: URLSearchParams;
  frames: Frame[];
  textMessages: string[];
  send: (frame: Frame) => void;
};

export type FakeLarkWs = {
  baseUrl: string;
  bootstrapRequests: BootstrapRequest[];
  connections: FakeConnection[];
  // Replaces the bootstrap reply; return undefined to use the default success reply.
  bootstrapReply: ((request: BootstrapRequest, response: ServerResponse) => boolean | void) | null;
  clientConfig: Record<string, number>;
  serviceId: number;
  answerPings: boolean;
  close: () => Promise<void>;
};

export async function startFakeLarkWs(): Promise<FakeLarkWs> {
  const server = createServer();
  const wss = new WebSocketServer({ noServer: true });
  const fake: FakeLarkWs = {
    baseUrl: '',
    bootstrapRequests: [],
    connections: [],
    bootstrapReply: null,
    clientConfig: { PingInterval: 120, ReconnectCount: -1, ReconnectInterval: 120, ReconnectNonce: 30 },
    serviceId: 321,
    answerPings: true,
    close: async () => {
      for (const connection of fake.connections) connection.socket.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };

  server.on('request', (request, response) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/callback/ws/endpoint') {
        response.statusCode = 404;
        response.end();
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
      const bootstrap = { headers: request.headers, body };
      fake.bootstrapRequests.push(bootstrap);
      if (fake.bootstrapReply && fake.bootstrapReply(bootstrap, response) !== false) return;
      const port = (server.address() as AddressInfo).port;
      response.setHeader('Content-Type', 'application/json');
      response.end(
        JSON.stringify({
          code: 0,
          msg: 'ok',
          data: {
            URL: `ws://127.0.0.1:${port}/ws/v2?fpid=9&aid=1&device_id=dev-1&access_key=SECRET-ACCESS-KEY&service_id=${fake.serviceId}&ticket=SECRET-TICKET-${fake.bootstrapRequests.length}`,
            ClientConfig: fake.clientConfig,
          },
        }),
      );
    });
  });

  server.on('upgrade', (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) => {
      const query = new URL(request.url ?? '/', 'http://localhost').searchParams;
      const connection: FakeConnection = {
        socket: ws,
        query,
        frames: [],
        textMessages: [],
        send: (frame) => ws.send(encodeFrame(frame)),
      };
      fake.connections.push(connection);
      ws.on('message', (data, isBinary) => {
        if (!isBinary) {
          connection.textMessages.push(data.toString());
          return;
        }
        const frame = decodeFrame(data as Buffer);
        connection.frames.push(frame);
        const type = frame.headers.find((h) => h.key === 'type')?.value;
        if (frame.method === 0 && type === 'ping' && fake.answerPings) {
          ws.send(
            encodeFrame({
              seqId: 0n,
              logId: 0n,
              service: frame.service,
              method: 0,
              headers: [{ key: 'type', value: 'pong' }],
              payload: new TextEncoder().encode(JSON.stringify(fake.clientConfig)),
            }),
          );
        }
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

export async function waitFor<T>(probe: () => T | undefined | null | false, options: { timeoutMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? 'condition'}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

// A pino logger that keeps every line, so tests can assert what never reaches the logs.
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

export function eventDataFrame(options: {
  seqId?: bigint;
  deliveryId: string;
  payload: Uint8Array;
  sum?: number;
  seq?: number;
  type?: string;
  service?: number;
}): Frame {
  return {
    seqId: options.seqId ?? 1n,
    logId: 900n,
    service: options.service ?? 321,
    method: 1,
    headers: [
      { key: 'type', value: options.type ?? 'event' },
      { key: 'message_id', value: options.deliveryId },
      { key: 'sum', value: String(options.sum ?? 1) },
      { key: 'seq', value: String(options.seq ?? 0) },
      { key: 'trace_id', value: `trace-${options.deliveryId}` },
    ],
    payload: options.payload,
  };
}
