// Every protocol timeout and interval the long connection uses, in one place. Callers override
// individual values through the options of the connector and the chunk assembler.
export const LARK_PROTOCOL_DEFAULTS = {
  // The Go SDK keeps partial chunked messages for 5 s after the latest chunk.
  chunkTtlMs: 5_000,
  maxChunksPerMessage: 1_024,
  maxPendingChunkedMessages: 1_000,
  bootstrapTimeoutMs: 15_000,
  dialTimeoutMs: 15_000,
  // Used until the bootstrap reply's ClientConfig says otherwise (the platform sends 120 s).
  pingIntervalMs: 120_000,
  // No inbound frame for PingInterval + this margin means the connection is half-open.
  silenceMarginMs: 10_000,
  // The platform redelivers after 3 s without ACK; answering 500 a little earlier keeps the outcome explicit.
  handlerTimeoutMs: 2_500,
} as const;
