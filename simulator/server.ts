import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CardRuntime } from './cards';
import { resolveConfig, type SimulatorOptions } from './config';
import { handleControl, type ControlDeps } from './control';
import { DeliveryEngine } from './delivery';
import { FaultStore } from './faults';
import { BodyTooLargeError, defaultMaxBodyBytes, json, parseJsonObject, readBody, writeReply, type Reply } from './http';
import { RateLimiter } from './rate-limit';
import { Registrations } from './registration';
import { IdempotencyStore } from './im-api';
import { persistDirectory, type DirectoryPersistence } from './persistence';
import { handleOpenApi, isUploadPath, uploadBodyMaxBytes } from './rest';
import { brands, Directory, type Brand } from './state';
import { TokenStore } from './tokens';
import { handleUi } from './ui';
import { WsGateway } from './ws';

export type { SimulatorOptions } from './config';

export type Simulator = {
  /** `http://HOST:PORT`; brand roots are `${url}/feishu` and `${url}/lark` (the bare root is feishu). */
  url: string;
  port: number;
  /**
   * A control request without the HTTP round trip, for a load generator in the simulator's own
   * process (a benchmark): the same handlers, the same replies, no sockets to pay for.
   */
  controlInProcess(method: string, pathAndQuery: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
};

/** A user's own file travels base64 in a control request. */
const controlBodyMaxBytes = 48 * 1024 * 1024;

/** `/feishu/...` and `/lark/...` are the brand roots; the bare root serves feishu too. */
function splitBrand(pathname: string): { brand: Brand; rest: string } {
  for (const brand of brands) {
    if (pathname === `/${brand}` || pathname.startsWith(`/${brand}/`)) {
      return { brand, rest: pathname.slice(brand.length + 1) || '/' };
    }
  }
  return { brand: 'feishu', rest: pathname };
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const config = resolveConfig(opts);
  const dir = new Directory();
  const persistence: DirectoryPersistence | undefined = config.stateFile
    ? await persistDirectory(dir, config.stateFile, (message, error) => console.error(`lark simulator: ${message}`, error))
    : undefined;
  const faults = new FaultStore();
  const tokens = new TokenStore(config.tokenTtlSeconds);
  const limiter = new RateLimiter();
  const idempotency = new IdempotencyStore();
  const cards = new CardRuntime();
  const registrations = new Registrations(dir, {
    intervalSeconds: config.registrationIntervalSeconds,
    expiresInSeconds: config.registrationExpiresInSeconds,
  });
  const ws: WsGateway = new WsGateway({
    dir,
    faults,
    clientConfig: config.clientConfig,
    maxConnectionsPerApp: config.maxConnectionsPerApp,
    onDataFrame: (connection, frame) => delivery.handleAck(connection, frame),
    onConnectionOpened: (appId) => delivery.connectionOpened(appId),
  });
  const delivery = new DeliveryEngine({
    ackTimeoutMs: config.ackTimeoutMs,
    maxAttempts: config.maxDeliveryAttempts,
    backoffMs: config.redeliveryBackoffMs,
    connectionsOf: (appId) => ws.connectionsOf(appId),
    chunkBytes: (appId) => faults.chunkBytes(appId),
    duplicateCount: (appId) => faults.duplicateCount(appId),
  });
  const controlDeps: ControlDeps = { dir, tokens, faults, delivery, ws, registrations, limiter, idempotency, cards, config };
  let listenAddress = '';

  async function route(req: IncomingMessage): Promise<Reply> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://localhost');
    // URLs handed out (WS endpoint, verification page) follow the address the client used.
    const host = req.headers.host ?? listenAddress;
    const { brand, rest } = splitBrand(url.pathname);
    const upload = rest.startsWith('/open-apis/') && isUploadPath(method, rest);
    const isControl = url.pathname === '/_control' || url.pathname.startsWith('/_control/');
    let body: Buffer;
    let bodyTooLarge = false;
    try {
      // Uploads and control requests (a user's own file, base64) may be large; the rest are small.
      body = await readBody(req, upload ? uploadBodyMaxBytes : isControl ? controlBodyMaxBytes : defaultMaxBodyBytes);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError) || !upload) throw error;
      // An oversized upload is answered by its endpoint, as Lark does (234006).
      body = Buffer.alloc(0);
      bodyTooLarge = true;
    }

    if (isControl) {
      let parsed: unknown;
      if (body.length > 0) {
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          return json(400, { error: { code: 'invalid_request', message: 'body is not valid JSON' } });
        }
      }
      return handleControl(controlDeps, { method, path: url.pathname.slice('/_control'.length) || '/', query: url.searchParams, body: parsed });
    }

    const ui = await handleUi(method, url.pathname, dir);
    if (ui) return ui;

    if (rest.startsWith('/open-apis/')) {
      return handleOpenApi(
        { dir, tokens, faults, limiter, config, idempotency, cards, delivery },
        { brand, method, path: rest, query: url.searchParams, headers: req.headers, body, ...(bodyTooLarge ? { bodyTooLarge } : {}) },
      );
    }
    if (rest === '/callback/ws/endpoint' && method === 'POST') {
      const parsed = parseJsonObject(body);
      const appId = typeof parsed?.AppID === 'string' ? parsed.AppID : undefined;
      return (await faults.applyRest({ path: rest, method, appId })) ?? ws.bootstrap(brand, parsed, host);
    }
    if (rest === '/oauth/v1/app/registration' && method === 'POST') {
      return (
        (await faults.applyRest({ path: rest, method })) ??
        registrations.handle({ brand, contentType: req.headers['content-type'], body, baseUrl: `http://${host}` })
      );
    }
    return json(404, { code: 404, msg: '404 page not found' });
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    route(req)
      .then((reply) => writeReply(res, reply))
      // Any request may change the directory (even a GET mints open_ids); unchanged state is not rewritten.
      .finally(() => persistence?.scheduleSave())
      .catch((error: unknown) => {
        if (error instanceof BodyTooLargeError) {
          writeReply(res, json(413, { code: 9499, msg: 'request entity too large' }));
          return;
        }
        console.error('lark simulator: unhandled error', error);
        if (!res.headersSent) writeReply(res, json(500, { code: 1, msg: 'internal error' }));
      });
  });
  server.on('upgrade', (req, socket, head) => ws.handleUpgrade(req, socket, head));
  // Node's 5 s keep-alive races clients that reuse an idle connection after a pause (a busy test
  // process building a 30 MB upload): the request meets a closing socket. Gateways keep idle
  // connections about a minute; so does this.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  listenAddress = `${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${listenAddress}`,
    port,
    async controlInProcess(method, pathAndQuery, body) {
      const url = new URL(pathAndQuery, 'http://localhost');
      // The reply's body crosses as JSON would: no caller holds on to the simulator's own objects.
      const reply = await handleControl(controlDeps, { method, path: url.pathname, query: url.searchParams, body: body === undefined ? undefined : structuredClone(body) });
      persistence?.scheduleSave();
      return { status: reply.status, body: reply.body === undefined ? null : JSON.parse(JSON.stringify(reply.body)) };
    },
    close() {
      closing ??= (async () => {
        delivery.clear();
        await ws.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await persistence?.flush();
      })();
      return closing;
    },
  };
}
