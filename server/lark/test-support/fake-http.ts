import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

// A scripted HTTP server for client unit tests: records every request and answers through a handler.

export type RecordedRequest = { method: string; path: string; headers: IncomingHttpHeaders; body: string };
export type ScriptedReply = { status?: number; headers?: Record<string, string>; body?: unknown; hang?: boolean };
export type FakeHttp = {
  baseUrl: string;
  requests: RecordedRequest[];
  handler: (request: RecordedRequest) => ScriptedReply | Promise<ScriptedReply>;
  close: () => Promise<void>;
};

export async function startFakeHttp(handler: FakeHttp['handler'] = () => ({ status: 404 })): Promise<FakeHttp> {
  const server = createServer();
  const fake: FakeHttp = {
    baseUrl: '',
    requests: [],
    handler,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  server.on('request', (request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', async () => {
      const recorded = { method: request.method ?? 'GET', path: request.url ?? '/', headers: request.headers, body };
      fake.requests.push(recorded);
      const reply = await fake.handler(recorded);
      if (reply.hang) return;
      response.statusCode = reply.status ?? 200;
      for (const [key, value] of Object.entries(reply.headers ?? {})) response.setHeader(key, value);
      if (reply.body === undefined) {
        response.end();
      } else if (typeof reply.body === 'string') {
        response.end(reply.body);
      } else {
        response.setHeader('Content-Type', 'application/json');
        response.end(JSON.stringify(reply.body));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

export function jsonBody(request: RecordedRequest): Record<string, unknown> {
  return JSON.parse(request.body) as Record<string, unknown>;
}
