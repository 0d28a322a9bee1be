import pg from 'pg';
import type { Logger } from 'pino';

export type Subscription = {
  /** A NOTIFY arrived on the channel. */
  onNotify: (payload: string) => void;
  /**
   * The subscription started listening, or the connection came back after a loss: NOTIFYs sent
   * before are gone, so the subscriber catches up on whatever it may have missed (a sweep, a
   * refetch, a wake-up).
   */
  onResync?: () => void;
};

export type PgListenerOptions = {
  connectionString: string;
  logger: Logger;
  /** Reconnect backoff: doubles from min to max, each wait jittered down by up to half. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** Seconds of silence before TCP keepalive probes a connection a proxy may have dropped. */
  keepAliveInitialDelayMs?: number;
};

export type ListenerState = 'idle' | 'connecting' | 'listening' | 'backoff' | 'closed';

const DEFAULT_BACKOFF_MIN_MS = 250;
const DEFAULT_BACKOFF_MAX_MS = 10_000;
const CHANNEL_RE = /^[a-z_][a-z0-9_]*$/;

/**
 * The process's one LISTEN connection: every channel of every part rides on it. It reconnects on
 * its own with backoff and jitter, re-subscribes every channel, and calls each subscriber's
 * `onResync` after a reconnect, since NOTIFY is not queued for absent listeners.
 */
export class PgListener {
  private readonly subscriptions = new Map<string, Set<Subscription>>();
  private client: pg.Client | null = null;
  private state: ListenerState = 'idle';
  private attempt = 0;
  private everConnected = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private connecting: Promise<void> | null = null;
  private commands: Promise<void> = Promise.resolve();
  private readonly minMs: number;
  private readonly maxMs: number;

  constructor(private readonly opts: PgListenerOptions) {
    this.minMs = opts.backoffMinMs ?? DEFAULT_BACKOFF_MIN_MS;
    this.maxMs = opts.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS;
  }

  /** Starts listening on `channel`; the returned function ends this subscription. */
  subscribe(channel: string, subscription: Subscription): () => void {
    if (!CHANNEL_RE.test(channel)) throw new Error(`Invalid channel name: ${channel}`);
    if (this.state === 'closed') throw new Error('The listener is closed');
    let set = this.subscriptions.get(channel);
    const isNewChannel = !set;
    if (!set) this.subscriptions.set(channel, (set = new Set()));
    set.add(subscription);
    // Joining a live connection: once LISTEN is in place, catch up on what came before it.
    if (isNewChannel && this.client && this.state === 'listening') void this.command(`LISTEN ${channel}`).then(() => subscription.onResync && this.deliver(subscription.onResync));
    else if (!isNewChannel && this.state === 'listening' && subscription.onResync) this.deliver(subscription.onResync);
    this.ensureStarted();
    return () => {
      const current = this.subscriptions.get(channel);
      if (!current?.delete(subscription) || current.size > 0) return;
      this.subscriptions.delete(channel);
      if (this.client && this.state === 'listening') void this.command(`UNLISTEN ${channel}`);
    };
  }

  /** Resolves once the connection is listening (or the listener is closed). */
  ready(): Promise<void> {
    this.ensureStarted();
    return this.connecting ?? Promise.resolve();
  }

  getState(): ListenerState {
    return this.state;
  }

  /** The backend pid of the live connection, for diagnostics and fault tests. */
  backendPid(): number | null {
    return (this.client as (pg.Client & { processID?: number }) | null)?.processID ?? null;
  }

  async close(): Promise<void> {
    this.state = 'closed';
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const client = this.client;
    this.client = null;
    if (client) {
      await client.end().catch((err: unknown) => this.opts.logger.debug({ err }, 'closing the listener connection failed'));
    }
  }

  private ensureStarted(): void {
    if (this.state !== 'idle') return;
    this.connecting = this.connect();
  }

  private async connect(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    const client = new pg.Client({
      connectionString: this.opts.connectionString,
      keepAlive: true,
      keepAliveInitialDelayMillis: this.opts.keepAliveInitialDelayMs ?? 10_000,
      application_name: 'larkspur-listener',
    });
    client.on('notification', (msg) => {
      for (const sub of this.subscriptions.get(msg.channel) ?? []) this.deliver(() => sub.onNotify(msg.payload ?? ''));
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, null));
    try {
      await client.connect();
      for (const channel of this.subscriptions.keys()) await client.query(`LISTEN ${channel}`);
    } catch (err) {
      client.removeAllListeners('end');
      client.on('error', () => {}); // the connection is being discarded; its late errors say nothing new
      await client.end().catch(() => {});
      if (this.isClosed()) return;
      this.opts.logger.warn({ err, attempt: this.attempt }, 'listener could not connect; retrying');
      this.scheduleReconnect();
      return;
    }
    if (this.isClosed()) {
      await client.end().catch(() => {}); // closed while connecting: nothing to keep
      return;
    }
    this.client = client;
    this.state = 'listening';
    if (this.everConnected) this.opts.logger.info({ channels: [...this.subscriptions.keys()] }, 'listener reconnected; subscribers resync');
    this.everConnected = true;
    this.attempt = 0;
    // On every connect, the first too: whatever happened before LISTEN took effect was not heard.
    for (const set of this.subscriptions.values()) for (const sub of set) if (sub.onResync) this.deliver(sub.onResync);
  }

  /** Read through a method: `close()` may change the state while `connect()` awaits. */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private lost(client: pg.Client, err: Error | null): void {
    if (this.client !== client || this.state === 'closed') return;
    this.client = null;
    this.opts.logger.warn({ err: err ?? undefined }, 'listener lost its connection; reconnecting');
    client.removeAllListeners('end');
    client.on('error', () => {}); // already handled: this client is being replaced
    client.end().catch(() => {});
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.state = 'backoff';
    const base = Math.min(this.maxMs, this.minMs * 2 ** this.attempt);
    this.attempt++;
    const delay = base / 2 + Math.random() * (base / 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connecting = this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  /** LISTEN/UNLISTEN one at a time: a pg client must not run two queries at once. */
  private command(text: string): Promise<void> {
    const client = this.client;
    this.commands = this.commands.then(async () => {
      if (!client || this.client !== client) return; // replaced meanwhile: the reconnect re-issues LISTEN
      try {
        await client.query(text);
      } catch (err) {
        // The connection is going away; the reconnect re-issues LISTEN for every live channel.
        this.opts.logger.debug({ err }, 'listener command failed');
      }
    });
    return this.commands;
  }

  private deliver(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.opts.logger.error({ err }, 'a listener subscriber threw');
    }
  }
}
