import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../../db/client';
import type { PgListener } from '../../db/listen';
import type { ConnectionState } from '../../db/schema';
import type { Env } from '../../env';
import { LARK_INSTALLATION_CHANNEL } from '../../events';
import { openBaseUrlFor, type FetchLike } from '../api';
import { pooledFetch } from '../api/pooled-fetch';
import type { LarkIntegration } from '../integration';
import {
  runConnector,
  type AckSent,
  type ConnectorExit,
  type ConnectorStatus,
  type DeliveryHandler,
  type DeliveryVerdict,
  type InboundDelivery,
} from '../protocol';
import { sleep, Wakeup } from '../../async/abortable';
import { anyNodeStale, leaseHolderNode, NODE_HEARTBEAT_MS, type NodeHealth } from '../../ops/node-registry';
import { reconnectDelayMs } from './reconnect-delay';
import { acquireLeases, listActiveInstallations, releaseLeases, renewLeases, type ActiveInstallation, type LeaseClaim } from './leases';

/** After a failed renewal, try again this soon (bounded by the renew interval). */
const RENEW_RETRY_MS = 1_000;
/**
 * Connection state changes ride on an early renewal, but no sooner than this after the previous
 * one: when a thousand bots connect at once, their states reach the database in a few statements,
 * not in one 1,000-row UPDATE after another while the connections are being opened.
 */
const STATE_FLUSH_GAP_MS = 1_000;
/**
 * Every bot's connection starts with a bootstrap request to the same open-platform host. Over one
 * bounded keep-alive pool, a worker taking over 1,000 bots makes this many TLS handshakes instead of
 * 1,000 (and never floods the host with simultaneous connects), while 1,000 bootstraps still take
 * only about eight round trips.
 */
export const BOOTSTRAP_CONNECTIONS = 128;
/** Sweep this long after a foreign lease's expiry, so its CAS sees it expired. */
const EXPIRY_MARGIN_MS = 100;

export type HubConfig = {
  leaseTtlMs: number;
  leaseRenewMs: number;
  sweepMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  backoffResetAfterMs: number;
  leaseReleaseTimeoutMs: number;
  shutdownTimeoutMs: number;
};

export function hubConfigFromEnv(e: Env): HubConfig {
  return {
    leaseTtlMs: e.LARK_LEASE_TTL_MS,
    leaseRenewMs: e.LARK_LEASE_RENEW_MS,
    sweepMs: e.LARK_HUB_SWEEP_MS,
    backoffMinMs: e.LARK_BACKOFF_MIN_MS,
    backoffMaxMs: e.LARK_BACKOFF_MAX_MS,
    backoffResetAfterMs: e.LARK_BACKOFF_RESET_AFTER_MS,
    leaseReleaseTimeoutMs: e.LARK_LEASE_RELEASE_TIMEOUT_MS,
    shutdownTimeoutMs: e.LARK_HUB_SHUTDOWN_TIMEOUT_MS,
  };
}

export type ConnectInput = {
  installation: ActiveInstallation;
  appSecret: string;
  openBaseUrl: string;
  handler: DeliveryHandler;
  onStatus: (status: ConnectorStatus) => void;
  onAck?: (ack: AckSent) => void;
  /** A connection that routes its events itself (the ACK thread) reports how many it received. */
  onEventsReceived?: (count: number, lastEventAt: number) => void;
  /** The hub's logger: the connection adds the bot's appId and installationId itself. */
  logger: Logger;
};
/** Opens one long connection and resolves when it ends; the real one is runConnector. */
export type ConnectFn = (input: ConnectInput, signal: AbortSignal) => Promise<ConnectorExit>;
/** Decides the ACK for each complete event of an installation. */
export type DeliveryRouter = (installation: ActiveInstallation, delivery: InboundDelivery) => Promise<DeliveryVerdict>;

export type HubOptions = {
  db: Db;
  listener: PgListener;
  nodeId: string;
  integration: LarkIntegration;
  logger: Logger;
  config: HubConfig;
  connect?: ConnectFn;
  /**
   * Decides every event's ACK; there is no default, so no event is ever dropped by omission. Only a
   * `connect` that routes its events itself (the ACK thread) goes without one.
   */
  route?: DeliveryRouter;
  /** Called after every renewal statement (benchmarks count statements per tick). */
  onRenewTick?: (held: number) => void;
  /** Called for every ACK written (metrics). */
  onAck?: (ack: AckSent) => void;
  /** This worker's own heartbeat (see NodeHealth): no leases while fenced, no takeovers right after an outage. */
  nodeHealth?: Pick<NodeHealth, 'mayHoldLeases' | 'maySeeSiblingsStale'>;
};

/** The real connector, bootstrapping through `fetch`. */
const connectWith =
  (fetch: FetchLike): ConnectFn =>
  (input, signal) =>
    runConnector(
      {
        appId: input.installation.appId,
        appSecret: input.appSecret,
        openBaseUrl: input.openBaseUrl,
        handler: input.handler,
        onStatus: input.onStatus,
        onAck: input.onAck,
        logger: input.logger,
        installationId: input.installation.id,
        fetch,
      },
      signal,
    );

/** A rotation (re-install) changes one of these; the running connection then belongs to the old bot. */
export function credentialsFingerprint(i: Pick<ActiveInstallation, 'appId' | 'botOpenId' | 'botUnionId' | 'region' | 'appSecretCiphertext'>): string {
  return createHash('sha256')
    .update([i.appId, i.botOpenId, i.botUnionId ?? '', i.region, createHash('sha256').update(i.appSecretCiphertext).digest('hex')].join('\n'))
    .digest('hex');
}

/** Lease tokens are per supervisor generation so a rotated-out supervisor can never release its successor's lease. */
export const leaseToken = (nodeId: string, generation: number) => `${nodeId}-g${generation}`;

type Supervisor = {
  installation: ActiveInstallation;
  token: string;
  fingerprint: string;
  controller: AbortController;
  state: ConnectionState;
  lastEventAt: Date | null;
  lastConnectedAt: Date | null;
  done: Promise<void>;
};

/**
 * Keeps one connection open per active installation this worker holds the lease for, across any
 * number of worker replicas. Reacts to installation NOTIFYs at once; the periodic sweep is the
 * safety net.
 */
export class LarkHub {
  private readonly supervisors = new Map<string, Supervisor>();
  private generation = 0;
  private readonly wake = new Wakeup();
  private sweepRequested = true;
  private flushRequested = false;
  private readonly connect: ConnectFn;
  private readonly route: DeliveryRouter;
  private eventsReceived = 0;
  private stopped = false;
  /**
   * When the leases held were last extended, on the monotonic clock: the start of the last renewal
   * that succeeded, or of an acquisition after the watchdog fired. Each is good until then + TTL.
   */
  private lastRenewedAt = performance.now();
  /** Pending while leases are covered; fires when renewals are overdue (see armRenewalWatchdog). */
  private renewalWatchdog: NodeJS.Timeout | undefined;
  /** When the soonest lease held by another worker runs out: a sweep then takes it over. */
  private foreignLeaseExpiresAt = Infinity;
  /** Workers holding the leases we do not: checked for a stopped heartbeat between sweeps. */
  private foreignHolders: string[] = [];

  /** Functions only: nothing of a request in flight (its body holds an app secret) hangs off the hub. */
  private readonly bootstrap = pooledFetch(BOOTSTRAP_CONNECTIONS);

  constructor(private readonly opts: HubOptions) {
    this.connect = opts.connect ?? connectWith(this.bootstrap.fetch);
    if (typeof opts.route !== 'function' && !opts.connect) throw new Error('LarkHub needs a route: every event must get a deliberate ACK');
    this.route = opts.route ?? (async () => 'retry');
  }

  private running = false;

  /** True while run() is active (readiness). */
  isRunning(): boolean {
    return this.running;
  }

  /** Installation ids this worker holds a lease for right now. */
  heldInstallations(): string[] {
    return [...this.supervisors.keys()];
  }

  stats() {
    const states: Record<ConnectionState, number> = { disconnected: 0, connecting: 0, connected: 0, backoff: 0 };
    for (const s of this.supervisors.values()) states[s.state] += 1;
    return { held: this.supervisors.size, eventsReceived: this.eventsReceived, states };
  }

  /** Asks for a sweep now (also what a NOTIFY does). */
  requestSweep(): void {
    this.sweepRequested = true;
    this.wake.notify();
  }

  async run(signal: AbortSignal): Promise<void> {
    this.running = true;
    // A revoke, rotation or install wakes a sweep at once; after a listener reconnect, sweep anyway.
    const unsubscribe = signal.aborted ? () => {} : this.opts.listener.subscribe(LARK_INSTALLATION_CHANNEL, { onNotify: () => this.requestSweep(), onResync: () => this.requestSweep() });
    const { sweepMs, leaseRenewMs } = this.opts.config;
    const flushGapMs = Math.min(STATE_FLUSH_GAP_MS, leaseRenewMs);
    let nextSweep = 0;
    let nextRenew = Date.now() + leaseRenewMs;
    let lastRenewEndedAt = 0;
    let nextHolderCheck = 0;
    try {
      while (!signal.aborted) {
        const now = Date.now();
        if (this.sweepRequested || now >= nextSweep || now >= this.foreignLeaseExpiresAt) {
          this.sweepRequested = false;
          this.foreignLeaseExpiresAt = Infinity;
          await this.sweep().catch((err) => this.opts.logger.error({ err }, 'hub sweep failed'));
          nextSweep = Date.now() + sweepMs;
        }
        if (now >= nextRenew || (this.flushRequested && now >= lastRenewEndedAt + flushGapMs)) {
          this.flushRequested = false;
          const startedAt = performance.now();
          try {
            await this.renew();
            this.armRenewalWatchdog(startedAt);
            nextRenew = Date.now() + leaseRenewMs;
          } catch (err) {
            // The watchdog closes every connection if this goes on until the leases may run out.
            this.opts.logger.error({ err }, 'lease renewal failed');
            nextRenew = Date.now() + Math.min(leaseRenewMs, RENEW_RETRY_MS);
          }
          lastRenewEndedAt = Date.now();
        }
        if (this.foreignHolders.length > 0 && Date.now() >= nextHolderCheck) {
          nextHolderCheck = Date.now() + NODE_HEARTBEAT_MS;
          if (this.maySeeSiblingsStale() && await anyNodeStale(this.opts.db, this.foreignHolders).catch(() => false)) this.requestSweep();
        }
        const nextHolderWake = this.foreignHolders.length > 0 ? nextHolderCheck : Infinity;
        const nextFlush = this.flushRequested ? lastRenewEndedAt + flushGapMs : Infinity;
        await this.wake.wait(Math.max(0, Math.min(nextSweep, nextRenew, nextFlush, this.foreignLeaseExpiresAt, nextHolderWake) - Date.now()), signal);
      }
    } finally {
      clearTimeout(this.renewalWatchdog);
      this.running = false;
      unsubscribe();
      await this.shutdown();
    }
  }

  /**
   * A renewal that succeeded at `renewedAt` keeps every lease until then + TTL, by the database's
   * clock. If none succeeds for TTL - renew interval (at least one renew interval before expiry: the
   * env check keeps renew <= TTL / 2), every connection is closed, so no other worker's connection
   * for the same bot ever overlaps ours. A timer, not the loop: the loop may be stuck awaiting a
   * statement that hangs (a half-open database connection) and would notice too late.
   * A renew interval as long as the TTL has no schedule to fall behind: renewals are then driven by
   * hand (tests, benchmarks; the env check refuses it).
   */
  private armRenewalWatchdog(renewedAt: number): void {
    const { leaseTtlMs, leaseRenewMs } = this.opts.config;
    this.lastRenewedAt = renewedAt;
    clearTimeout(this.renewalWatchdog);
    this.renewalWatchdog = undefined;
    if (leaseRenewMs >= leaseTtlMs) return;
    this.renewalWatchdog = setTimeout(() => {
      this.renewalWatchdog = undefined;
      if (this.supervisors.size === 0) return;
      this.opts.logger.error({ sinceRenewalMs: Math.round(performance.now() - this.lastRenewedAt) }, 'lease renewals overdue');
      this.dropAllConnections();
    }, Math.max(0, renewedAt + leaseTtlMs - leaseRenewMs - performance.now()));
    this.renewalWatchdog.unref();
  }

  private maySeeSiblingsStale(): boolean {
    return this.opts.nodeHealth?.maySeeSiblingsStale() ?? true;
  }

  /** Stops every connection without touching the database (it may be unreachable); the sweep reclaims them. */
  dropAllConnections(): void {
    if (this.supervisors.size === 0) return;
    this.opts.logger.error({ held: this.supervisors.size }, 'leases may not hold (renewals failing, or this worker looks gone to others); closing every connection');
    for (const [id, sup] of [...this.supervisors]) void this.stopSupervisor(id, sup, { release: false });
  }

  /** Reconciles supervisors with the active installations: start, stop (revoked) and restart (rotated). */
  async sweep(): Promise<void> {
    if (this.stopped) return;
    const rows = await listActiveInstallations(this.opts.db);
    // A lease another worker holds is taken over the moment it runs out, not at the next periodic
    // sweep, or as soon as its worker stops heartbeating.
    const holders = new Set<string>();
    for (const row of rows) {
      if (this.supervisors.has(row.id) || row.leaseExpired || row.leaseRemainingMs === null) continue;
      this.foreignLeaseExpiresAt = Math.min(this.foreignLeaseExpiresAt, Date.now() + row.leaseRemainingMs + EXPIRY_MARGIN_MS);
      const holder = row.leaseToken ? leaseHolderNode(row.leaseToken) : null;
      if (holder && holder !== this.opts.nodeId) holders.add(holder);
    }
    this.foreignHolders = [...holders];
    const active = new Map(rows.map((r) => [r.id, r]));
    for (const [id, sup] of this.supervisors) {
      if (!active.has(id)) {
        this.opts.logger.info({ installationId: id }, 'installation no longer active; dropping its connection');
        void this.stopSupervisor(id, sup, { release: true });
      }
    }
    // Fenced, this worker may already look gone to its siblings: it connects nobody until its
    // heartbeat goes through again (which asks for a sweep).
    if (!(this.opts.nodeHealth?.mayHoldLeases() ?? true)) return;
    const takeFromStaleNodes = this.maySeeSiblingsStale();
    const claims: Array<LeaseClaim & { installation: ActiveInstallation; fingerprint: string }> = [];
    for (const row of rows) {
      const fingerprint = credentialsFingerprint(row);
      const current = this.supervisors.get(row.id);
      if (current && current.fingerprint === fingerprint) continue;
      const heldByOurNode = row.leaseToken?.startsWith(`${this.opts.nodeId}-g`) ?? false;
      if (!current && row.leaseToken && !row.leaseExpired && !heldByOurNode && !(row.holderStale && takeFromStaleNodes)) continue; // another replica holds it
      claims.push({ id: row.id, token: leaseToken(this.opts.nodeId, ++this.generation), replacesToken: current?.token ?? null, installation: row, fingerprint });
    }
    if (claims.length === 0) return;
    const acquiredAt = performance.now();
    const acquired = await acquireLeases(this.opts.db, claims, this.opts.config.leaseTtlMs, this.opts.nodeId, { takeFromStaleNodes });
    // After the watchdog fired (renewals failing), leases taken anew are covered from their acquisition.
    if (acquired.size > 0 && this.renewalWatchdog === undefined && !this.stopped) this.armRenewalWatchdog(acquiredAt);
    for (const claim of claims) {
      if (!acquired.has(claim.id)) continue;
      const previous = this.supervisors.get(claim.id);
      if (previous) {
        this.opts.logger.info({ installationId: claim.id, appId: claim.installation.appId }, 'credentials rotated; restarting the connection');
        // The lease was handed over by CAS; the old supervisor's release can no longer match it.
        void this.stopSupervisor(claim.id, previous, { release: true });
      }
      this.startSupervisor(claim.installation, claim.token, claim.fingerprint);
    }
  }

  /** One statement renews every lease this worker holds; a lease not renewed is lost at once. */
  async renew(): Promise<void> {
    const held = [...this.supervisors.values()].map((s) => ({
      id: s.installation.id,
      token: s.token,
      state: s.state,
      lastEventAt: s.lastEventAt,
      lastConnectedAt: s.lastConnectedAt,
    }));
    if (held.length === 0) return;
    const still = await renewLeases(this.opts.db, held, this.opts.config.leaseTtlMs);
    this.opts.onRenewTick?.(held.length);
    for (const h of held) {
      const sup = this.supervisors.get(h.id);
      if (!still.has(h.id) && sup && sup.token === h.token) {
        this.opts.logger.warn({ installationId: h.id }, 'lease lost; closing the connection');
        void this.stopSupervisor(h.id, sup, { release: false });
      }
    }
  }

  private startSupervisor(installation: ActiveInstallation, token: string, fingerprint: string): void {
    const sup: Supervisor = {
      installation,
      token,
      fingerprint,
      controller: new AbortController(),
      state: 'connecting',
      lastEventAt: null,
      lastConnectedAt: null,
      done: Promise.resolve(),
    };
    this.supervisors.set(installation.id, sup);
    sup.done = this.supervise(sup).catch((err) => this.opts.logger.error({ err, installationId: installation.id }, 'supervisor crashed'));
  }

  private async stopSupervisor(id: string, sup: Supervisor, opts: { release: boolean }): Promise<void> {
    if (this.supervisors.get(id) === sup) this.supervisors.delete(id);
    sup.controller.abort();
    await sup.done;
    if (opts.release) await this.release([{ id, token: sup.token }]);
  }

  private async release(held: Array<{ id: string; token: string }>): Promise<void> {
    try {
      await releaseLeases(this.opts.db, held, AbortSignal.timeout(this.opts.config.leaseReleaseTimeoutMs));
    } catch (err) {
      // The lease then simply expires after its TTL.
      this.opts.logger.warn({ err, count: held.length }, 'lease release did not finish in time');
    }
  }

  private setState(sup: Supervisor, state: ConnectionState): void {
    if (sup.state === state) return;
    sup.state = state;
    if (state === 'connected') sup.lastConnectedAt = new Date();
    // State changes reach the database with the next (early) renewal, still one statement for all.
    // Only the first change wakes the loop: it then knows when that renewal is due.
    if (this.supervisors.get(sup.installation.id) === sup && !this.flushRequested) {
      this.flushRequested = true;
      this.wake.notify();
    }
  }

  private async supervise(sup: Supervisor): Promise<void> {
    const { installation } = sup;
    const signal = sup.controller.signal;
    // The connector names the bot in its own lines; this child is made only when the hub has
    // something to say about it, so an idle connection does not carry a second logger.
    let child: Logger | undefined;
    const log = () => (child ??= this.opts.logger.child({ installationId: installation.id, appId: installation.appId }));
    const { backoffMinMs, backoffMaxMs, backoffResetAfterMs } = this.opts.config;
    let backoff = backoffMinMs;
    let failedAttempts = 0;
    while (!signal.aborted) {
      let appSecret: string;
      try {
        appSecret = this.opts.integration.box!.open(installation.appSecretCiphertext);
      } catch {
        log().error('cannot decrypt the app secret (was LARK_SECRET_KEY changed?); not connecting');
        this.setState(sup, 'backoff');
        await sleep(backoffMaxMs, signal);
        continue;
      }
      this.setState(sup, 'connecting');
      const exit = await this.connect(
        {
          installation,
          appSecret,
          openBaseUrl: openBaseUrlFor(installation.region, this.opts.integration.hosts),
          handler: (delivery) => {
            this.eventsReceived += 1;
            sup.lastEventAt = new Date();
            return this.route(installation, delivery);
          },
          onStatus: (status) => {
            if (status.state === 'connected') this.setState(sup, 'connected');
            if (status.lastEventAt) sup.lastEventAt = new Date(status.lastEventAt);
          },
          onAck: this.opts.onAck,
          onEventsReceived: (count, lastEventAt) => {
            this.eventsReceived += count;
            sup.lastEventAt = new Date(lastEventAt);
          },
          logger: this.opts.logger,
        },
        signal,
      );
      if (signal.aborted) break;
      // A connection that lived a while was healthy: its end is news, not another failure.
      const wasHealthy = exit.connectedAt !== null && exit.endedAt - exit.connectedAt >= backoffResetAfterMs;
      if (wasHealthy) backoff = backoffMinMs;
      failedAttempts = wasHealthy ? 0 : failedAttempts + 1;
      // Lark refused for good (bad credentials, too many connections): retry slowly, not every second.
      const fatal = (exit.reason === 'bootstrap_failed' && exit.error.kind === 'fatal') || (exit.reason === 'dial_failed' && !exit.retryable);
      const delay = reconnectDelayMs({ clientConfig: exit.clientConfig, wasHealthy, failedAttempts, fatal, silent: exit.reason === 'silent', backoffMs: backoff, backoffMaxMs });
      log().warn({ reason: exit.reason, delayMs: Math.round(delay) }, 'lark connection ended; reconnecting after backoff');
      this.setState(sup, 'backoff');
      await sleep(delay, signal);
      backoff = Math.min(backoff * 2, backoffMaxMs);
    }
    sup.state = 'disconnected';
  }

  /** Bounded: stop every supervisor, then release all held leases in one statement. */
  private async shutdown(): Promise<void> {
    this.stopped = true;
    const all = [...this.supervisors.entries()];
    this.supervisors.clear();
    for (const [, sup] of all) sup.controller.abort();
    const timer = new AbortController();
    const deadline = sleep(this.opts.config.shutdownTimeoutMs, timer.signal).then(() => 'timeout' as const);
    const finished = await Promise.race([Promise.all(all.map(([, s]) => s.done)).then(() => 'done' as const), deadline]);
    timer.abort();
    if (finished === 'timeout') this.opts.logger.warn('some connections did not close within the shutdown deadline');
    void this.bootstrap.close();
    await this.release(all.map(([id, s]) => ({ id, token: s.token })));
  }
}
