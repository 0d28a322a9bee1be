import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { freePort } from '../../../scripts/free-port';
import { bootstrapConnection, LarkBootstrapError } from '../protocol';
import { pooledFetch } from './pooled-fetch';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A bootstrap endpoint answering like Lark; counts the TCP connections it accepts. */
async function endpoint(reply: (req: http.IncomingMessage, res: http.ServerResponse) => void = okReply) {
  let sockets = 0;
  const server = http.createServer(reply);
  server.on('connection', () => (sockets += 1));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(r)), async () => server.closeAllConnections());
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets: () => sockets };
}

function okReply(req: http.IncomingMessage, res: http.ServerResponse) {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    const { AppID } = JSON.parse(body) as { AppID: string };
    res.writeHead(200, { 'content-type': 'application/json', 'x-app': AppID });
    res.end(JSON.stringify({ code: 0, data: { URL: `ws://127.0.0.1:1/ws?service_id=7&app=${AppID}`, ClientConfig: { PingInterval: 90 } } }));
  });
}

function pool(connections = 128) {
  const p = pooledFetch(connections);
  cleanups.push(p.close);
  return p;
}

describe('the bootstrap pool', () => {
  test('answers bootstrap requests like fetch: status, headers and body', async () => {
    const { base } = await endpoint();
    const p = pool();
    const res = await p.fetch(`${base}/callback/ws/endpoint`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ AppID: 'cli_a' }) });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-app')).toBe('cli_a');
    const result = await bootstrapConnection({ openBaseUrl: base, appId: 'cli_b', appSecret: 's', fetch: p.fetch });
    expect(result).toMatchObject({ serviceId: 7, clientConfig: { pingIntervalMs: 90_000 } });
    expect(result.url).toContain('app=cli_b');
  });

  test("reads a reply's headers as fetch does: any case, repeated values joined, absent ones null", async () => {
    const { base } = await endpoint((req, res) => {
      res.setHeader('x-tt-logid', 'log-1');
      res.setHeader('x-multi', ['a', 'b']);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    const res = await pool().fetch(`${base}/x`, { method: 'GET' });
    expect([res.headers.get('X-TT-LogId'), res.headers.get('x-multi'), res.headers.get('x-none')]).toEqual(['log-1', 'a, b', null]);
  });

  test('many bots bootstrap over a bounded set of kept-alive connections', async () => {
    const { base, sockets } = await endpoint();
    const p = pool(4);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => bootstrapConnection({ openBaseUrl: base, appId: `cli_${i}`, appSecret: 's', fetch: p.fetch })));
    expect(results.map((r) => new URL(r.url).searchParams.get('app'))).toEqual(Array.from({ length: 40 }, (_, i) => `cli_${i}`));
    expect(sockets()).toBeLessThanOrEqual(4);
  });

  test('a refused connection is a retryable bootstrap failure naming the transport error', async () => {
    const port = await freePort();
    const err = await bootstrapConnection({ openBaseUrl: `http://127.0.0.1:${port}`, appId: 'cli_x', appSecret: 's', fetch: pool().fetch }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LarkBootstrapError);
    expect(err).toMatchObject({ kind: 'retryable' });
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  test('a host that never answers times out as a retryable failure, and an abort ends the request at once', async () => {
    const { base } = await endpoint(() => {});
    const p = pool();
    const timedOut = await bootstrapConnection({ openBaseUrl: base, appId: 'cli_x', appSecret: 's', fetch: p.fetch, timeoutMs: 200 }).catch((e: unknown) => e);
    expect(timedOut).toMatchObject({ kind: 'retryable' });
    expect((timedOut as Error).message).toMatch(/timed out after 200 ms/);

    const abort = new AbortController();
    const started = Date.now();
    const pending = bootstrapConnection({ openBaseUrl: base, appId: 'cli_y', appSecret: 's', fetch: p.fetch, signal: abort.signal }).catch((e: unknown) => e);
    setTimeout(() => abort.abort(new Error('stopping')), 50);
    expect(await pending).toMatchObject({ message: 'stopping' });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('media over the pool', () => {
  test('a binary answer keeps its bytes, and a multipart upload arrives whole', async () => {
    const image = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0x10]);
    let uploaded = Buffer.alloc(0);
    let uploadType = '';
    const { base } = await endpoint((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'GET') {
          // Lark serves a resource as bytes with the file's own type, text files included.
          res.writeHead(200, { 'content-type': req.url === '/text' ? 'text/plain' : 'image/png' }).end(req.url === '/text' ? 'plain words' : image);
          return;
        }
        uploaded = Buffer.concat(chunks);
        uploadType = req.headers['content-type'] ?? '';
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 0, data: { image_key: 'img_v3_x' } }));
      });
    });
    const { fetch } = pool(4);
    const got = await fetch(`${base}/image`, { method: 'GET' });
    expect(Buffer.from(await got.arrayBuffer()).equals(image)).toBe(true);
    const text = await fetch(`${base}/text`, { method: 'GET' });
    expect(Buffer.from(await text.arrayBuffer()).toString()).toBe('plain words');
    const form = new FormData();
    form.set('image_type', 'message');
    form.set('image', new Blob([new Uint8Array(image)]), 'image');
    const res = await fetch(`${base}/upload`, { method: 'POST', body: form });
    expect(JSON.parse(await res.text())).toMatchObject({ data: { image_key: 'img_v3_x' } });
    expect(uploadType).toMatch(/^multipart\/form-data; boundary=/);
    expect(uploaded.includes(image)).toBe(true);
  });
});
