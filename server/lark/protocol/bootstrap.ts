import { LarkNetworkError } from '../api/errors';
import { parseJsonObject, performRequest, type FetchLike } from '../api/request';
import { LARK_DEFAULTS } from '../defaults';

export type LarkClientConfig = {
  pingIntervalMs: number;
  reconnectCount: number;
  reconnectIntervalMs: number;
  reconnectNonceMs: number;
};

export const DEFAULT_CLIENT_CONFIG: LarkClientConfig = {
  pingIntervalMs: LARK_DEFAULTS.connector.pingIntervalMs,
  reconnectCount: -1,
  reconnectIntervalMs: LARK_DEFAULTS.connector.reconnectIntervalMs,
  reconnectNonceMs: LARK_DEFAULTS.connector.reconnectNonceMs,
};

// Bootstrap reply codes: busy and internal errors are worth retrying soon; anything else (forbidden,
// auth failed, too many connections, unknown) is fatal for this attempt and calls for a long back-off.
export const BOOTSTRAP_RETRYABLE_CODES: ReadonlySet<number> = new Set([1, 1000040343]);

export type BootstrapErrorKind = 'fatal' | 'retryable';

export class LarkBootstrapError extends Error {
  readonly code: number | null;
  readonly kind: BootstrapErrorKind;
  readonly httpStatus: number | null;

  constructor(options: { code: number | null; kind: BootstrapErrorKind; httpStatus: number | null; reason: string }) {
    super(`lark ws bootstrap failed: ${options.reason}`);
    this.name = 'LarkBootstrapError';
    this.code = options.code;
    this.kind = options.kind;
    this.httpStatus = options.httpStatus;
  }

  get retryable(): boolean {
    return this.kind === 'retryable';
  }
}

export type BootstrapResult = {
  // Single-use (it carries a ticket): never log it, never reuse it.
  url: string;
  serviceId: number;
  clientConfig: LarkClientConfig;
};

export type BootstrapOptions = {
  openBaseUrl: string;
  appId: string;
  appSecret: string;
  timeoutMs?: number;
  fetch?: FetchLike;
  signal?: AbortSignal;
};

function secondsToMs(value: unknown, fallbackMs: number, options: { allowNegative?: boolean; allowZero?: boolean } = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return fallbackMs;
  if (value < 0 && !options.allowNegative) return fallbackMs;
  if (value === 0 && !options.allowZero) return fallbackMs;
  return value * 1000;
}

// ClientConfig values are seconds on the wire (bootstrap reply and pong payloads).
export function parseClientConfig(value: unknown, previous: LarkClientConfig = DEFAULT_CLIENT_CONFIG): LarkClientConfig {
  const raw = value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  return {
    pingIntervalMs: secondsToMs(raw.PingInterval, previous.pingIntervalMs),
    reconnectCount:
      typeof raw.ReconnectCount === 'number' && Number.isInteger(raw.ReconnectCount) ? raw.ReconnectCount : previous.reconnectCount,
    reconnectIntervalMs: secondsToMs(raw.ReconnectInterval, previous.reconnectIntervalMs, { allowZero: true }),
    reconnectNonceMs: secondsToMs(raw.ReconnectNonce, previous.reconnectNonceMs, { allowZero: true }),
  };
}

export function parseServiceId(url: string): number | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const raw = parsed.searchParams.get('service_id');
  if (raw === null || !/^-?\d+$/.test(raw)) return null;
  const value = Number(raw);
  return value >= -2147483648 && value <= 2147483647 ? value : null;
}

// Fetches a fresh single-use WebSocket URL. Called before every connect.
export async function bootstrapConnection(options: BootstrapOptions): Promise<BootstrapResult> {
  let response;
  try {
    response = await performRequest({
      operation: 'ws.bootstrap',
      method: 'POST',
      url: `${options.openBaseUrl}/callback/ws/endpoint`,
      headers: { 'Content-Type': 'application/json', locale: 'zh' },
      body: JSON.stringify({ AppID: options.appId, AppSecret: options.appSecret }),
      timeoutMs: options.timeoutMs ?? LARK_DEFAULTS.connector.bootstrapTimeoutMs,
      signal: options.signal,
      fetch: options.fetch,
    });
  } catch (error) {
    if (error instanceof LarkNetworkError) {
      throw new LarkBootstrapError({ code: null, kind: 'retryable', httpStatus: null, reason: error.message });
    }
    throw error;
  }
  const body = parseJsonObject(response.text);
  if (!body || typeof body.code !== 'number') {
    throw new LarkBootstrapError({
      code: null,
      kind: 'retryable',
      httpStatus: response.status,
      reason: `unparseable response (http ${response.status})`,
    });
  }
  if (body.code !== 0) {
    const msg = typeof body.msg === 'string' && body.msg ? body.msg : 'no message';
    throw new LarkBootstrapError({
      code: body.code,
      kind: BOOTSTRAP_RETRYABLE_CODES.has(body.code) ? 'retryable' : 'fatal',
      httpStatus: response.status,
      reason: `code ${body.code} (${msg})`,
    });
  }
  const data = body.data !== null && typeof body.data === 'object' ? (body.data as Record<string, unknown>) : {};
  const url = typeof data.URL === 'string' ? data.URL : '';
  const serviceId = url ? parseServiceId(url) : null;
  if (!url || serviceId === null) {
    throw new LarkBootstrapError({
      code: 0,
      kind: 'retryable',
      httpStatus: response.status,
      reason: url ? 'connection url without a valid service_id' : 'response without a connection url',
    });
  }
  return { url, serviceId, clientConfig: parseClientConfig(data.ClientConfig) };
}
