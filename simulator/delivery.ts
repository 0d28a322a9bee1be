import { randomInt } from 'node:crypto';
import { FrameMethod, headerValue, type Frame, type FrameHeader } from './frames';
import { newDeliveryId, newTraceId } from './ids';

/** One open event connection as the delivery engine sees it. */
export type EventConnection = {
  readonly id: string;
  readonly appId: string;
  readonly serviceId: number;
  nextSeqId(): number;
  /** Silently drops the frame when the connection has been made silent. */
  send(frame: Frame): void;
};

export type AckRecord = { code: number | null; biz_rt: string | null; at: number; connection_id: string };

/** An ACK as its sender wrote it: the code and the rest of the JSON payload (a callback's answer rides in `data`). */
export type AckPayload = { code: number | null; body: Record<string, unknown> | null };

type Delivery = {
  deliveryId: string;
  eventId: string;
  appId: string;
  eventType: string;
  imMessageId?: string;
  payload: Buffer;
  traceId: string;
  attempts: number;
  /** Frames the last attempt was split into (chunk_events). */
  chunks: number;
  acks: AckRecord[];
  status: 'pending' | 'acked' | 'failed';
  /** No connection was open when an attempt was due: sent as soon as one opens. */
  waiting: boolean;
  timer?: NodeJS.Timeout;
  createdAt: number;
  onAck?: (ack: AckPayload) => void;
};

export type DeliveryOptions = {
  ackTimeoutMs: number;
  maxAttempts: number;
  backoffMs: number;
  connectionsOf(appId: string): EventConnection[];
  chunkBytes(appId: string): number | undefined;
  duplicateCount(appId: string): number;
};

export type DeliveryView = {
  event_id: string;
  message_id: string;
  app_id: string;
  event_type: string;
  im_message_id: string | null;
  attempts: number;
  chunks: number;
  acks: AckRecord[];
  status: Delivery['status'];
  created_at: number;
};

const maxLoggedDeliveries = 10_000;

function splitPayload(payload: Buffer, chunkBytes: number | undefined): Buffer[] {
  if (!chunkBytes || payload.length <= chunkBytes) return [payload];
  const parts: Buffer[] = [];
  for (let offset = 0; offset < payload.length; offset += chunkBytes) {
    parts.push(payload.subarray(offset, offset + chunkBytes));
  }
  return parts;
}

function parseAck(payload: Uint8Array | undefined): AckPayload {
  if (!payload) return { code: null, body: null };
  try {
    const body: unknown = JSON.parse(Buffer.from(payload).toString('utf8'));
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return { code: null, body: null };
    const code = (body as { code?: unknown }).code;
    return { code: typeof code === 'number' ? code : null, body: body as Record<string, unknown> };
  } catch {
    return { code: null, body: null };
  }
}

/**
 * Pushes events to an app's connections and holds them until ACKed with code 200: one random
 * connection per attempt, redelivered (same message_id and event_id) on ACK timeout or a non-200
 * ACK, up to `maxAttempts` sends.
 */
export class DeliveryEngine {
  private readonly deliveries = new Map<string, Delivery>();

  constructor(private readonly opts: DeliveryOptions) {}

  /** `onAck` hears every ACK of a still pending delivery (the first copy's, with duplicate_deliveries). */
  deliver(input: {
    appId: string;
    eventId: string;
    eventType: string;
    envelope: unknown;
    imMessageId?: string;
    onAck?: (ack: AckPayload) => void;
  }): void {
    this.forgetOldest();
    const payload = Buffer.from(JSON.stringify(input.envelope), 'utf8');
    // duplicate_deliveries: the same event again, each copy a delivery of its own.
    const copies = 1 + this.opts.duplicateCount(input.appId);
    for (let i = 0; i < copies; i++) {
      const delivery: Delivery = {
        deliveryId: newDeliveryId(),
        eventId: input.eventId,
        appId: input.appId,
        eventType: input.eventType,
        imMessageId: input.imMessageId,
        payload,
        traceId: newTraceId(),
        attempts: 0,
        chunks: 0,
        acks: [],
        status: 'pending',
        waiting: false,
        createdAt: Date.now(),
        ...(i === 0 && input.onAck ? { onAck: input.onAck } : {}),
      };
      this.deliveries.set(delivery.deliveryId, delivery);
      this.attempt(delivery);
    }
  }

  /** A data frame from a client: an ACK when it names one of our deliveries. */
  handleAck(connection: EventConnection, frame: Frame): void {
    const deliveryId = headerValue(frame, 'message_id');
    const delivery = deliveryId ? this.deliveries.get(deliveryId) : undefined;
    if (!delivery || delivery.appId !== connection.appId) return;
    const ack = parseAck(frame.payload);
    const { code } = ack;
    delivery.acks.push({ code, biz_rt: headerValue(frame, 'biz_rt') ?? null, at: Date.now(), connection_id: connection.id });
    if (delivery.status !== 'pending') return;
    clearTimeout(delivery.timer);
    delivery.onAck?.(ack);
    if (code === 200) {
      delivery.status = 'acked';
      return;
    }
    this.scheduleRetry(delivery);
  }

  connectionOpened(appId: string): void {
    for (const delivery of this.deliveries.values()) {
      if (delivery.appId === appId && delivery.waiting && delivery.status === 'pending') this.attempt(delivery);
    }
  }

  list(appId?: string): DeliveryView[] {
    const out: DeliveryView[] = [];
    for (const d of this.deliveries.values()) {
      if (appId && d.appId !== appId) continue;
      out.push({
        event_id: d.eventId,
        message_id: d.deliveryId,
        app_id: d.appId,
        event_type: d.eventType,
        im_message_id: d.imMessageId ?? null,
        attempts: d.attempts,
        chunks: d.chunks,
        acks: [...d.acks],
        status: d.status,
        created_at: d.createdAt,
      });
    }
    return out;
  }

  clear(): void {
    for (const d of this.deliveries.values()) clearTimeout(d.timer);
    this.deliveries.clear();
  }

  // A long demo session keeps the log bounded: the oldest settled deliveries go first.
  private forgetOldest(): void {
    if (this.deliveries.size < maxLoggedDeliveries) return;
    for (const [id, d] of this.deliveries) {
      if (this.deliveries.size < maxLoggedDeliveries * 0.9) break;
      if (d.status !== 'pending') this.deliveries.delete(id);
    }
  }

  private attempt(delivery: Delivery): void {
    if (delivery.status !== 'pending') return;
    const connections = this.opts.connectionsOf(delivery.appId);
    if (connections.length === 0) {
      delivery.waiting = true;
      return;
    }
    delivery.waiting = false;
    const connection = connections[randomInt(connections.length)];
    delivery.attempts += 1;
    const parts = splitPayload(delivery.payload, this.opts.chunkBytes(delivery.appId));
    delivery.chunks = parts.length;
    parts.forEach((part, seq) => {
      const headers: FrameHeader[] = [
        { key: 'type', value: 'event' },
        { key: 'message_id', value: delivery.deliveryId },
        { key: 'sum', value: String(parts.length) },
        { key: 'seq', value: String(seq) },
        { key: 'trace_id', value: delivery.traceId },
      ];
      connection.send({
        SeqID: connection.nextSeqId(),
        LogID: randomInt(1, 2 ** 47),
        service: connection.serviceId,
        method: FrameMethod.data,
        headers,
        payload: part,
      });
    });
    delivery.timer = setTimeout(() => this.scheduleRetry(delivery), this.opts.ackTimeoutMs);
  }

  private scheduleRetry(delivery: Delivery): void {
    if (delivery.status !== 'pending') return;
    if (delivery.attempts >= this.opts.maxAttempts) {
      delivery.status = 'failed';
      return;
    }
    delivery.timer = setTimeout(() => this.attempt(delivery), this.opts.backoffMs * delivery.attempts);
  }
}
