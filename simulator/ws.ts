import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { EventConnection } from './delivery';
import type { ClientConfig, FaultStore } from './faults';
import { decodeFrame, encodeFrame, FrameMethod, headerValue, type Frame } from './frames';
import { json, type Reply } from './http';
import { newTicket, randomDigits, randomHex, randomInt32 } from './ids';
import type { Brand, Directory } from './state';

// Bootstrap answer codes (LARK_PROTOCOL.md).
const bootstrapCodes = {
  authFailed: { code: 514, msg: 'auth failed: app not found or app secret mismatch' },
  tooManyConnections: { code: 1000040350, msg: 'exceed conn limit' },
} as const;

const ticketTtlMs = 60_000;
export const wsPath = '/ws/v2';

type Ticket = { appId: string; serviceId: number; deviceId: string; expiresAt: number };

class Connection implements EventConnection {
  silent = false;
  private seq = 0;

  constructor(
    readonly id: string,
    readonly appId: string,
    readonly serviceId: number,
    readonly deviceId: string,
    readonly socket: WebSocket,
  ) {}

  nextSeqId(): number {
    this.seq += 1;
    return this.seq;
  }

  send(frame: Frame): void {
    if (this.silent || this.socket.readyState !== WebSocket.OPEN) return;
    this.socket.send(encodeFrame(frame));
  }
}

export type WsGatewayOptions = {
  dir: Directory;
  faults: FaultStore;
  clientConfig: ClientConfig;
  maxConnectionsPerApp: number;
  onDataFrame(connection: EventConnection, frame: Frame): void;
  onConnectionOpened(appId: string): void;
};

/** `POST /callback/ws/endpoint` and the event WebSocket it hands out. */
export class WsGateway {
  private readonly tickets = new Map<string, Ticket>();
  private readonly connections = new Map<string, Connection>();
  private readonly wss = new WebSocketServer({ noServer: true, autoPong: false });

  constructor(private readonly opts: WsGatewayOptions) {}

  bootstrap(brand: Brand, body: Record<string, unknown> | undefined, host: string): Reply {
    const app = typeof body?.AppID === 'string' ? this.opts.dir.apps.get(body.AppID) : undefined;
    if (!app || app.brand !== brand || body?.AppSecret !== app.appSecret) {
      return json(200, { ...bootstrapCodes.authFailed, data: {} });
    }
    if (this.connectionsOf(app.appId).length >= this.opts.maxConnectionsPerApp) {
      return json(200, { ...bootstrapCodes.tooManyConnections, data: {} });
    }
    const ticket = newTicket();
    const serviceId = randomInt32();
    const deviceId = randomDigits(18);
    this.tickets.set(ticket, { appId: app.appId, serviceId, deviceId, expiresAt: Date.now() + ticketTtlMs });
    // fpid and aid lead the query as on the real platform (the official Node SDK drops the first parameter).
    const query = [
      `fpid=${randomDigits(3)}`,
      `aid=${randomDigits(6)}`,
      `device_id=${deviceId}`,
      `access_key=${randomHex(32)}`,
      `service_id=${serviceId}`,
      `ticket=${ticket}`,
    ].join('&');
    return json(200, {
      code: 0,
      msg: 'ok',
      data: { URL: `ws://${host}${wsPath}?${query}`, ClientConfig: this.opts.clientConfig },
    });
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== wsPath) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const ticketId = url.searchParams.get('ticket') ?? '';
    const ticket = this.tickets.get(ticketId);
    this.tickets.delete(ticketId);
    const app = ticket ? this.opts.dir.apps.get(ticket.appId) : undefined;
    if (!ticket || ticket.expiresAt < Date.now() || !app) {
      socket.end(
        'HTTP/1.1 403 Forbidden\r\nhandshake-status: 514\r\nhandshake-msg: invalid or used ticket\r\n' +
          'handshake-autherrcode: 514\r\nconnection: close\r\ncontent-length: 0\r\n\r\n',
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, ticket));
  }

  connectionsOf(appId: string): Connection[] {
    return [...this.connections.values()].filter(
      (c) => c.appId === appId && c.socket.readyState === WebSocket.OPEN,
    );
  }

  /** Closes every connection of the app (all apps when omitted) abruptly, as a network failure would. */
  drop(appId?: string): number {
    let count = 0;
    for (const c of this.connections.values()) {
      if (appId && c.appId !== appId) continue;
      c.socket.terminate();
      count += 1;
    }
    return count;
  }

  /** Half-open: the connection stays up but nothing more comes out of it and nothing is answered. */
  silence(appId?: string): number {
    let count = 0;
    for (const c of this.connections.values()) {
      if (appId && c.appId !== appId) continue;
      c.silent = true;
      count += 1;
    }
    return count;
  }

  reset(): void {
    this.drop();
    this.tickets.clear();
  }

  close(): Promise<void> {
    this.reset();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }

  private accept(socket: WebSocket, ticket: Ticket): void {
    const connection = new Connection(
      `conn_${randomHex(12)}`,
      ticket.appId,
      ticket.serviceId,
      ticket.deviceId,
      socket,
    );
    this.connections.set(connection.id, connection);
    socket.on('close', () => this.connections.delete(connection.id));
    socket.on('error', () => socket.terminate());
    socket.on('message', (data, isBinary) => this.receive(connection, data, isBinary));
    // RFC 6455: an endpoint answers a WebSocket ping with a pong, unless it is half-open (silent).
    socket.on('ping', (data) => {
      if (!connection.silent && socket.readyState === WebSocket.OPEN) socket.pong(data);
    });
    this.opts.onConnectionOpened(connection.appId);
  }

  private receive(connection: Connection, data: RawData, isBinary: boolean): void {
    // Only binary pbbp2 frames are protocol; a silent (half-open) connection answers nothing.
    if (!isBinary || connection.silent) return;
    let frame: Frame;
    try {
      frame = decodeFrame(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer));
    } catch {
      return;
    }
    if (frame.method === FrameMethod.control) {
      if (headerValue(frame, 'type') === 'ping') this.pong(connection);
      return;
    }
    if (frame.method === FrameMethod.data) this.opts.onDataFrame(connection, frame);
  }

  // Every pong carries a ClientConfig: the official SDK parses any pong payload (protobuf decodes an
  // absent bytes field as empty), so the platform evidently always sends one.
  private pong(connection: Connection): void {
    const config = this.opts.faults.clientConfigFor(connection.appId) ?? this.opts.clientConfig;
    connection.send({
      SeqID: 0,
      LogID: 0,
      service: connection.serviceId,
      method: FrameMethod.control,
      headers: [{ key: 'type', value: 'pong' }],
      payload: Buffer.from(JSON.stringify(config), 'utf8'),
    });
  }
}
