import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { logger as rootLogger } from '@/server/logger';
import type { FetchLike } from '../api/request';
import {
  bootstrapConnection,
  DEFAULT_CLIENT_CONFIG,
  LarkBootstrapError,
  parseClientConfig,
  type LarkClientConfig,
} from './bootstrap';
import { ChunkAssembler } from './chunk-assembler';
import { LARK_DEFAULTS } from '../defaults';
import {
  buildAckFrame,
  buildPingFrame,
  buildPongFrame,
  decodeFrame,
  encodeFrame,
  FRAME_METHOD_CONTROL,
  FRAME_METHOD_DATA,
  FRAME_TYPE_CARD,
  FRAME_TYPE_EVENT,
  FRAME_TYPE_PING,
  FRAME_TYPE_PONG,
  getHeader,
  HEADER_MESSAGE_ID,
  HEADER_SEQ,
  HEADER_SUM,
  HEADER_TRACE_ID,
  HEADER_TYPE,
  type AckCode,
  type Frame,
} from './frame';

export type InboundDelivery = {
  frameType: 'event' | 'card';
  // The platform's delivery id (frame header message_id), not the IM message id.
  deliveryId: string;
  traceId: string | null;
  // Reassembled UTF-8 JSON, undecoded: the event decoder parses it once.
  payload: Uint8Array;
  receivedAt: number;
  // Aborted when the handler's time budget runs out or the connection ends.
  signal: AbortSignal;
};

// ok / ignored: handled or deliberately dropped (ACK 200). retry: infrastructure failure (ACK 500,
// the platform redelivers). responseData rides back in the ACK (card action replies).
export type DeliveryVerdict = 'ok' | 'ignored' | 'retry' | { verdict: 'ok'; responseData: unknown };

export type DeliveryHandler = (delivery: InboundDelivery) => Promise<DeliveryVerdict>;

export type ConnectorState = 'connecting' | 'connected' | 'disconnected';

export type ConnectorStatus = {
  state: ConnectorState;
  since: number;
  lastFrameAt: number | null;
  lastEventAt: number | null;
  clientConfig: LarkClientConfig;
};

export type ConnectorExitReason =
  | { reason: 'aborted' }
  | { reason: 'bootstrap_failed'; error: LarkBootstrapError }
  | { reason: 'dial_failed'; retryable: boolean; detail: string }
  | { reason: 'closed'; closeCode: number; detail: string }
  | { reason: 'silent'; silentForMs: number };

export type ConnectorExit = ConnectorExitReason & {
  // The latest ClientConfig (bootstrap reply, then pongs): the caller's reconnect policy reads it.
  clientConfig: LarkClientConfig;
  connectedAt: number | null;
  endedAt: number;
  eventsHandled: number;
};

export type AckSent = { deliveryId: string; code: AckCode; bizRtMs: number };

export type ConnectorOptions = {
  appId: string;
  appSecret: string;
  openBaseUrl: string;
  handler: DeliveryHandler;
  onStatus?: (status: ConnectorStatus) => void;
  // Called after each ACK is written (metrics, benchmarks).
  onAck?: (ack: AckSent) => void;
  logger?: Logger;
  installationId?: string;
  fetch?: FetchLike;
  bootstrapTimeoutMs?: number;
  dialTimeoutMs?: number;
  silenceMarginMs?: number;
  /** Inbound quiet before a WebSocket-level ping probes the connection, and how long it may stay quiet. */
  livenessProbeMs?: number;
  livenessTimeoutMs?: number;
  handlerTimeoutMs?: number;
  chunkTtlMs?: number;
};

// Handshake rejections the Go SDK treats as final: 403, and 514 with "too many connections".
const HANDSHAKE_FORBIDDEN = 403;
const HANDSHAKE_AUTH_FAILED = 514;
const HANDSHAKE_EXCEED_CONN_LIMIT = 1000040350;

const textDecoder = new TextDecoder('utf-8');

function rawDataToBytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

function ackCodeFor(verdict: unknown): { code: AckCode; responseData?: unknown } {
  if (verdict === 'ok' || verdict === 'ignored') return { code: 200 };
  if (verdict !== null && typeof verdict === 'object' && (verdict as { verdict?: unknown }).verdict === 'ok') {
    return { code: 200, responseData: (verdict as { responseData?: unknown }).responseData };
  }
  return { code: 500 };
}

// What a running handler shares with the connector. Its AbortSignal is created on first use: most
// handlers never look at it, and an AbortController per event is a measurable share of the event path.
class HandlerScope {
  acked = false;
  private controller: AbortController | null = null;
  private aborted = false;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort();
    }
    return this.controller.signal;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.controller?.abort();
  }
}

// One long connection: bootstrap, dial, ping, receive, ACK. Resolves when the connection ends (never
// rejects); the caller (a supervisor) decides whether and when to reconnect.
export function runConnector(options: ConnectorOptions, signal: AbortSignal): Promise<ConnectorExit> {
  return new ConnectorSession(options, signal).run();
}

class ConnectorSession {
  private readonly log: Logger;
  // Chunk reassembly is scoped to one connection: partial messages die with it.
  private readonly assembler: ChunkAssembler;
  private readonly inFlightHandlers = new Set<HandlerScope>();
  private readonly silenceMarginMs: number;
  private readonly livenessProbeMs: number;
  private readonly livenessTimeoutMs: number;
  private readonly handlerTimeoutMs: number;
  private clientConfig: LarkClientConfig = DEFAULT_CLIENT_CONFIG;
  private socket: WebSocket | null = null;
  private serviceId = 0;
  private state: ConnectorState = 'connecting';
  private stateSince = Date.now();
  private connectedAt: number | null = null;
  private lastFrameAt: number | null = null;
  private lastFrameMonotonic = 0;
  private lastEventAt: number | null = null;
  private lastPingMonotonic = 0;
  private pingTimer: NodeJS.Timeout | null = null;
  private silenceTimer: NodeJS.Timeout | null = null;
  private eventsHandled = 0;
  private writesHeld = false;
  private finished = false;
  private resolveExit: (exit: ConnectorExit) => void = () => undefined;

  constructor(
    private readonly options: ConnectorOptions,
    private readonly signal: AbortSignal,
  ) {
    this.log = (options.logger ?? rootLogger()).child({
      component: 'lark-connector',
      appId: options.appId,
      ...(options.installationId ? { installationId: options.installationId } : {}),
    });
    this.assembler = new ChunkAssembler({ ttlMs: options.chunkTtlMs });
    this.silenceMarginMs = options.silenceMarginMs ?? LARK_DEFAULTS.connector.silenceMarginMs;
    this.livenessProbeMs = options.livenessProbeMs ?? LARK_DEFAULTS.connector.livenessProbeMs;
    this.livenessTimeoutMs = options.livenessTimeoutMs ?? LARK_DEFAULTS.connector.livenessTimeoutMs;
    this.handlerTimeoutMs = options.handlerTimeoutMs ?? LARK_DEFAULTS.connector.handlerTimeoutMs;
  }

  run(): Promise<ConnectorExit> {
    const exit = new Promise<ConnectorExit>((resolve) => {
      this.resolveExit = resolve;
    });
    if (this.signal.aborted) {
      this.finish({ reason: 'aborted' });
      return exit;
    }
    this.signal.addEventListener('abort', this.onAbort, { once: true });
    this.publishStatus('connecting');
    void this.connect();
    return exit;
  }

  private readonly onAbort = () => {
    this.finish({ reason: 'aborted' });
  };

  private async connect(): Promise<void> {
    let bootstrap;
    try {
      bootstrap = await bootstrapConnection({
        openBaseUrl: this.options.openBaseUrl,
        appId: this.options.appId,
        appSecret: this.options.appSecret,
        timeoutMs: this.options.bootstrapTimeoutMs,
        fetch: this.options.fetch,
        signal: this.signal,
      });
    } catch (error) {
      if (this.finished) return;
      if (error instanceof LarkBootstrapError) {
        // The message carries Lark's msg or the transport failure; the bootstrap request holds no secret in its URL.
        this.log.warn({ code: error.code, kind: error.kind, httpStatus: error.httpStatus, detail: sanitizeDetail(error.message) }, 'lark ws bootstrap failed');
        this.finish({ reason: 'bootstrap_failed', error });
      } else {
        this.log.error({ err: error }, 'lark ws bootstrap crashed');
        this.finish({
          reason: 'bootstrap_failed',
          error: new LarkBootstrapError({ code: null, kind: 'retryable', httpStatus: null, reason: 'unexpected error' }),
        });
      }
      return;
    }
    if (this.finished) return;
    this.clientConfig = bootstrap.clientConfig;
    this.serviceId = bootstrap.serviceId;
    this.dial(bootstrap.url);
  }

  private dial(url: string): void {
    let socket: WebSocket;
    try {
      socket = new WebSocket(url, {
        handshakeTimeout: this.options.dialTimeoutMs ?? LARK_DEFAULTS.connector.dialTimeoutMs,
        maxPayload: 16 * 1024 * 1024,
      });
    } catch {
      // The constructor's message quotes the URL; keep it out of logs and results.
      this.finish({ reason: 'dial_failed', retryable: true, detail: 'invalid connection url' });
      return;
    }
    this.socket = socket;
    // `ws` reports the teardown of a discarded socket as an asynchronous 'error'; without a listener
    // that would be an uncaught exception.
    socket.on('error', (error: Error) => {
      if (this.finished) return;
      if (this.state === 'connecting') {
        this.finish({ reason: 'dial_failed', retryable: true, detail: sanitizeDetail(error.message) });
      } else {
        this.log.warn({ detail: sanitizeDetail(error.message) }, 'lark ws socket error');
      }
    });
    socket.on('unexpected-response', (_request, response: IncomingMessage) => {
      const status = Number(response.headers['handshake-status']);
      const authErrorCode = Number(response.headers['handshake-autherrcode']);
      const fatal = status === HANDSHAKE_FORBIDDEN || (status === HANDSHAKE_AUTH_FAILED && authErrorCode === HANDSHAKE_EXCEED_CONN_LIMIT);
      const detail = Number.isFinite(status)
        ? `handshake rejected: http ${response.statusCode ?? 0}, handshake-status ${status}`
        : `handshake rejected: http ${response.statusCode ?? 0}`;
      response.resume();
      this.finish({ reason: 'dial_failed', retryable: !fatal, detail });
    });
    socket.on('open', () => this.onOpen());
    // The answer to our liveness probe: any sign of life counts, like an inbound frame.
    socket.on('pong', () => {
      if (!this.finished) this.lastFrameMonotonic = performance.now();
    });
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('close', (code: number, reason: Buffer) => {
      if (this.finished) return;
      if (this.state === 'connecting') {
        this.finish({ reason: 'dial_failed', retryable: true, detail: `closed during handshake (${code})` });
        return;
      }
      this.finish({ reason: 'closed', closeCode: code, detail: sanitizeDetail(reason.toString('utf8')) });
    });
  }

  private onOpen(): void {
    if (this.finished) return;
    this.connectedAt = Date.now();
    this.lastFrameMonotonic = performance.now();
    this.log.info({ serviceId: this.serviceId, pingIntervalMs: this.clientConfig.pingIntervalMs }, 'lark ws connected');
    this.publishStatus('connected');
    this.sendPing();
    this.checkSilence();
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.finished) return;
    this.lastFrameMonotonic = performance.now();
    this.lastFrameAt = Date.now();
    // Text frames are not part of the protocol; they still prove the connection is alive.
    if (!isBinary) return;
    let frame: Frame;
    try {
      frame = decodeFrame(rawDataToBytes(data));
    } catch (error) {
      this.log.warn({ detail: error instanceof Error ? error.message : 'unknown' }, 'dropping undecodable frame');
      return;
    }
    if (frame.method === FRAME_METHOD_CONTROL) this.onControlFrame(frame);
    else if (frame.method === FRAME_METHOD_DATA) this.onDataFrame(frame);
  }

  private onControlFrame(frame: Frame): void {
    const type = getHeader(frame, HEADER_TYPE);
    if (type === FRAME_TYPE_PING) {
      this.send(buildPongFrame(frame));
      return;
    }
    if (type !== FRAME_TYPE_PONG || !frame.payload || frame.payload.byteLength === 0) return;
    let config: unknown;
    try {
      config = JSON.parse(textDecoder.decode(frame.payload));
    } catch {
      this.log.warn('ignoring pong with an unparseable ClientConfig');
      return;
    }
    const next = parseClientConfig(config, this.clientConfig);
    const pingChanged = next.pingIntervalMs !== this.clientConfig.pingIntervalMs;
    this.clientConfig = next;
    if (pingChanged) {
      this.log.info({ pingIntervalMs: next.pingIntervalMs }, 'lark ws adopted a new ping interval');
      this.schedulePing();
      this.checkSilence();
    }
    this.publishStatus(this.state);
  }

  private onDataFrame(frame: Frame): void {
    const type = getHeader(frame, HEADER_TYPE);
    // Like the official SDKs, data frames of other types are neither handled nor ACKed.
    if (type !== FRAME_TYPE_EVENT && type !== FRAME_TYPE_CARD) return;
    const deliveryId = getHeader(frame, HEADER_MESSAGE_ID) ?? '';
    const sumHeader = getHeader(frame, HEADER_SUM);
    const seqHeader = getHeader(frame, HEADER_SEQ);
    const result = this.assembler.add({
      messageId: deliveryId,
      sum: sumHeader === undefined ? 1 : Number(sumHeader),
      seq: seqHeader === undefined ? 0 : Number(seqHeader),
      data: frame.payload ?? new Uint8Array(0),
    });
    if (result.status === 'invalid') {
      this.log.warn({ deliveryId, detail: result.reason }, 'dropping data frame with invalid chunk headers');
      return;
    }
    if (result.status === 'pending') return;
    this.dispatch(frame, {
      frameType: type,
      deliveryId,
      traceId: getHeader(frame, HEADER_TRACE_ID) ?? null,
      payload: result.payload,
    });
  }

  // The handler runs concurrently with the read loop; its ACK leaves on the frame that completed the message.
  private dispatch(frame: Frame, delivery: Omit<InboundDelivery, 'receivedAt' | 'signal'>): void {
    const startedAt = performance.now();
    const scope = new HandlerScope();
    this.inFlightHandlers.add(scope);
    const ack = (code: AckCode, responseData?: unknown) => {
      if (scope.acked) return;
      scope.acked = true;
      clearTimeout(budgetTimer);
      this.inFlightHandlers.delete(scope);
      if (this.finished) return;
      const bizRtMs = performance.now() - startedAt;
      this.send(buildAckFrame(frame, { code, bizRtMs, responseData }));
      this.eventsHandled += 1;
      this.lastEventAt = Date.now();
      this.publishStatus(this.state);
      this.notifyAck({ deliveryId: delivery.deliveryId, code, bizRtMs });
    };
    const budgetTimer = setTimeout(() => {
      if (scope.acked) return;
      this.log.warn({ deliveryId: delivery.deliveryId, budgetMs: this.handlerTimeoutMs }, 'handler exceeded its ACK budget; answering 500');
      ack(500);
      scope.abort();
    }, this.handlerTimeoutMs);
    let pending: Promise<DeliveryVerdict>;
    try {
      pending = this.options.handler({
        frameType: delivery.frameType,
        deliveryId: delivery.deliveryId,
        traceId: delivery.traceId,
        payload: delivery.payload,
        receivedAt: Date.now(),
        get signal() {
          return scope.signal;
        },
      });
    } catch (error) {
      pending = Promise.reject(error);
    }
    Promise.resolve(pending).then(
      (verdict) => {
        const { code, responseData } = ackCodeFor(verdict);
        ack(code, responseData);
      },
      (error: unknown) => {
        if (!scope.acked && !this.finished) this.log.error({ err: error, deliveryId: delivery.deliveryId }, 'event handler failed; answering 500');
        ack(500);
      },
    );
  }

  private sendPing(): void {
    if (this.finished) return;
    this.send(buildPingFrame(this.serviceId));
    this.lastPingMonotonic = performance.now();
    this.schedulePing();
  }

  private schedulePing(): void {
    if (this.pingTimer) clearTimeout(this.pingTimer);
    const due = this.lastPingMonotonic + this.clientConfig.pingIntervalMs - performance.now();
    this.pingTimer = setTimeout(() => this.sendPing(), Math.max(0, due));
  }

  private checkSilence(): void {
    if (this.finished) return;
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    const limit = Math.min(this.clientConfig.pingIntervalMs + this.silenceMarginMs, this.livenessTimeoutMs);
    const silentFor = performance.now() - this.lastFrameMonotonic;
    if (silentFor >= limit) {
      this.log.warn({ silentForMs: Math.round(silentFor) }, 'lark ws connection went silent');
      this.finish({ reason: 'silent', silentForMs: Math.round(silentFor) });
      return;
    }
    if (silentFor >= this.livenessProbeMs) this.probe();
    const nextProbe = silentFor < this.livenessProbeMs ? this.livenessProbeMs - silentFor : this.livenessProbeMs;
    this.silenceTimer = setTimeout(() => this.checkSilence(), Math.max(1, Math.min(limit - silentFor, nextProbe)));
  }

  private probe(): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    try {
      socket.ping();
    } catch (error) {
      this.log.debug({ detail: error instanceof Error ? sanitizeDetail(error.message) : 'unknown' }, 'liveness probe could not be sent');
    }
  }

  // Every write goes through here. `ws` queues sends in call order on the single socket, so frames
  // from the ping timer and from concurrent handlers never interleave.
  private send(frame: Frame): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    this.holdWritesUntilNextTick(socket);
    socket.send(encodeFrame(frame), { binary: true }, this.onSent);
  }

  private readonly onSent = (error?: Error) => {
    if (error && !this.finished) this.log.warn({ detail: sanitizeDetail(error.message) }, 'lark ws send failed');
  };

  // Frames written in the same turn of the event loop (the ACKs of handlers that finished together,
  // a pong) leave in one system call instead of one each: the TCP socket under `ws` is corked until
  // the next tick, as Node's stream documentation suggests. `ws` offers no public handle for this, so
  // without its socket the writes simply go out one by one.
  private holdWritesUntilNextTick(socket: WebSocket): void {
    if (this.writesHeld) return;
    const stream = (socket as unknown as { _socket?: Duplex })._socket;
    if (!stream || typeof stream.cork !== 'function') return;
    stream.cork();
    this.writesHeld = true;
    process.nextTick(() => {
      this.writesHeld = false;
      stream.uncork();
    });
  }

  private notifyAck(ack: AckSent): void {
    if (!this.options.onAck) return;
    try {
      this.options.onAck(ack);
    } catch (error) {
      this.log.warn({ err: error }, 'connector ACK observer threw');
    }
  }

  private publishStatus(state: ConnectorState): void {
    if (state !== this.state) {
      this.state = state;
      this.stateSince = Date.now();
    }
    if (!this.options.onStatus) return;
    try {
      this.options.onStatus({
        state,
        since: this.stateSince,
        lastFrameAt: this.lastFrameAt,
        lastEventAt: this.lastEventAt,
        clientConfig: this.clientConfig,
      });
    } catch (error) {
      this.log.warn({ err: error }, 'connector status observer threw');
    }
  }

  private finish(reason: ConnectorExitReason): void {
    if (this.finished) return;
    this.finished = true;
    this.signal.removeEventListener('abort', this.onAbort);
    if (this.pingTimer) clearTimeout(this.pingTimer);
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    for (const handler of this.inFlightHandlers) handler.abort();
    this.inFlightHandlers.clear();
    this.assembler.clear();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.removeAllListeners('message');
      socket.removeAllListeners('open');
      socket.removeAllListeners('unexpected-response');
      // Closing the socket is what breaks a blocked read at once.
      socket.terminate();
    }
    if (reason.reason !== 'aborted') this.log.info({ reason: reason.reason, detail: exitDetail(reason) }, 'lark ws connection ended');
    this.publishStatus('disconnected');
    this.resolveExit({
      ...reason,
      clientConfig: this.clientConfig,
      connectedAt: this.connectedAt,
      endedAt: Date.now(),
      eventsHandled: this.eventsHandled,
    });
  }
}

// Error details from `ws` or a close reason must not echo the single-use URL's query (ticket, access_key).
function sanitizeDetail(detail: string): string {
  return detail.replace(/\?\S*/g, '?[redacted]').slice(0, 200);
}

function exitDetail(reason: ConnectorExitReason): string | undefined {
  switch (reason.reason) {
    case 'bootstrap_failed':
      return sanitizeDetail(reason.error.message);
    case 'dial_failed':
    case 'closed':
      return reason.detail;
    default:
      return undefined;
  }
}
