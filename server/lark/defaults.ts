// Lark redelivers an event whose ACK has not arrived within 3 s: every budget on the ACK path sits under it.
export const LARK_ACK_DEADLINE_MS = 3_000;

// Every timeout, interval and limit of the Lark client layer, in one place. Each value can be
// overridden through the options of the component that uses it.
export const LARK_DEFAULTS = {
  connector: {
    bootstrapTimeoutMs: 15_000,
    dialTimeoutMs: 15_000,
    // Used until the bootstrap reply's ClientConfig says otherwise (the platform sends 120 s).
    pingIntervalMs: 120_000,
    reconnectIntervalMs: 120_000,
    reconnectNonceMs: 30_000,
    // No inbound frame for PingInterval + this margin means the connection is half-open.
    silenceMarginMs: 10_000,
    // PingInterval is 120 s: far too long to notice a half-open socket while events pile up unseen.
    // After this much inbound quiet we send a WebSocket ping (RFC 6455: every endpoint answers it);
    // with no answer at all within the timeout, the connection is half-open and is replaced.
    livenessProbeMs: 1_500,
    livenessTimeoutMs: 3_000,
    // The platform redelivers after 3 s without ACK; answering 500 a little earlier keeps the outcome explicit.
    handlerTimeoutMs: 2_500,
  },
  chunks: {
    // The Go SDK keeps partial chunked messages for 5 s after the latest chunk.
    ttlMs: 5_000,
    maxChunksPerMessage: 1_024,
    maxPendingMessages: 1_000,
  },
  http: {
    requestTimeoutMs: 10_000,
    // Used when a rate-limited reply carries no x-ogw-ratelimit-reset header.
    rateLimitFallbackWaitMs: 1_000,
  },
  tenantToken: {
    safetyMarginMs: 60_000,
    // An `expire` below this is raised to it, so a short-lived token is still cached for a while instead
    // of being born inside its own safety margin (a token-invalid reply then refreshes it early).
    minExpireSeconds: 120,
  },
  registration: {
    intervalSeconds: 5,
    expiresInSeconds: 600,
    slowDownStepSeconds: 5,
    requestTimeoutMs: 15_000,
  },
} as const;
