import type { ClientConfig } from './faults';

export type SimulatorOptions = {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** No ACK within this long: the event is redelivered. Lark: 3 s. */
  ackTimeoutMs?: number;
  /** Sends per event, first delivery included. */
  maxDeliveryAttempts?: number;
  /** Wait before redelivery n is `redeliveryBackoffMs * n`. */
  redeliveryBackoffMs?: number;
  /** Lifetime of tenant access tokens. Lark: 7200 s. */
  tokenTtlSeconds?: number;
  /** Per app and API. Lark: 50/s and 1000/min. */
  rateLimitPerSecond?: number;
  rateLimitPerMinute?: number;
  /** Messages per second into one group chat (all bots together) or to one user. Lark: 5. */
  chatRateLimitPerSecond?: number;
  /** Card updates per second per message. Lark: 5. */
  patchRateLimitPerSecond?: number;
  /** CardKit operations per second per card entity, creation included (230020 beyond). Lark: 10. */
  cardOpsPerSecond?: number;
  /** Tables (table components and markdown tables) one card may hold (230099 / 11310 beyond). */
  cardTableLimit?: number;
  /** A card entity's streaming mode closes itself this long after it was opened (200850). Lark: about 10 min. */
  streamingTimeoutMs?: number;
  /** Device flow: the poll interval and lifetime announced by `begin`. Lark: 5 s and 600 s. */
  registrationIntervalSeconds?: number;
  registrationExpiresInSeconds?: number;
  /** ClientConfig returned by the WS bootstrap (seconds). */
  clientConfig?: Partial<ClientConfig>;
  maxConnectionsPerApp?: number;
  /**
   * JSON file holding tenants, users, apps (with their secrets), chats and messages: loaded at
   * start when present, written shortly after each change and at close. Unset: nothing persists.
   */
  stateFile?: string;
};

export type SimulatorConfig = Required<Omit<SimulatorOptions, 'clientConfig' | 'stateFile'>> & {
  clientConfig: ClientConfig;
  stateFile: string | undefined;
};

export function resolveConfig(opts: SimulatorOptions): SimulatorConfig {
  return {
    port: opts.port ?? 0,
    host: opts.host ?? '127.0.0.1',
    ackTimeoutMs: opts.ackTimeoutMs ?? 3000,
    maxDeliveryAttempts: opts.maxDeliveryAttempts ?? 4,
    redeliveryBackoffMs: opts.redeliveryBackoffMs ?? 1000,
    tokenTtlSeconds: opts.tokenTtlSeconds ?? 7200,
    rateLimitPerSecond: opts.rateLimitPerSecond ?? 50,
    rateLimitPerMinute: opts.rateLimitPerMinute ?? 1000,
    chatRateLimitPerSecond: opts.chatRateLimitPerSecond ?? 5,
    patchRateLimitPerSecond: opts.patchRateLimitPerSecond ?? 5,
    cardOpsPerSecond: opts.cardOpsPerSecond ?? 10,
    cardTableLimit: opts.cardTableLimit ?? 5,
    streamingTimeoutMs: opts.streamingTimeoutMs ?? 10 * 60 * 1000,
    registrationIntervalSeconds: opts.registrationIntervalSeconds ?? 5,
    registrationExpiresInSeconds: opts.registrationExpiresInSeconds ?? 600,
    clientConfig: { PingInterval: 120, ReconnectCount: -1, ReconnectInterval: 120, ReconnectNonce: 30, ...opts.clientConfig },
    maxConnectionsPerApp: opts.maxConnectionsPerApp ?? 50,
    stateFile: opts.stateFile,
  };
}
