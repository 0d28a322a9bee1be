import 'server-only';
import pino from 'pino';

let instance: pino.Logger | undefined;

// Keys whose values are secrets wherever they appear: censored by pino in log objects and by
// `redactValue` in what third-party code (better-auth) hands us.
const SECRET_KEYS = [
  'password',
  'token',
  'apiKey',
  'api_key',
  'appSecret',
  'app_secret',
  'secret',
  'authorization',
  'cookie',
  'set-cookie',
  'sessionToken',
  'session_token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'idToken',
  'id_token',
  'deviceCode',
  'device_code',
  'tenantAccessToken',
  'tenant_access_token',
  'clientSecret',
  'client_secret',
];
const SECRET_KEY_SET = new Set(SECRET_KEYS.map((k) => k.toLowerCase()));
const bracket = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `["${k}"]`);
const redactPaths = SECRET_KEYS.flatMap((k) => [...(bracket(k).startsWith('.') ? [k] : []), `*${bracket(k)}`]);

type SafeError = { type: string; message: string; code?: string | number; stack?: string; cause?: SafeError };

// Query errors carry the statement's parameters (keys, tokens, message text) in their message, stack
// and fields; drivers add row values in `detail`. Logs keep what explains the failure, not the data.
const PARAMS_LINE = /\nparams: [\s\S]*?(?=\n\s+at |$)/g;
const URL_IN_TEXT = /\b(?:https?|wss?):\/\/[^\s"'<>`]+/gi;
// A path with a query string but no scheme (`/api/x?token=...`), as routers and fetch errors print them.
const PATH_QUERY = /(^|[\s"'(=])(\/[^\s"'?#<>]*)[?#][^\s"'<>)]*/g;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/%=-]+/gi;
// `name=value` pairs (cookies, form bodies) and JSON `"name":"value"` pairs whose name is a secret's,
// e.g. `better-auth.session_token=abc.def`.
const SECRET_NAMES = SECRET_KEYS.map((k) => k.replace(/[-_]/g, '[-_]?')).join('|');
const SECRET_PAIR = new RegExp(`([\\w.-]*(?:${SECRET_NAMES})=)[^\\s;,&"']+`, 'gi');
const SECRET_JSON_PAIR = new RegExp(`("(?:${SECRET_NAMES})"\\s*:\\s*")[^"]*`, 'gi');

/** A URL without credentials, query or fragment: the query is where tokens and codes travel. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return value.replace(/[?#].*$/, '');
  }
}

/** Free text with URLs' queries, credentials, bearer tokens, query parameters and secret pairs removed. */
export function redactText(text: string): string {
  return text
    .replace(PARAMS_LINE, '')
    .replace(URL_IN_TEXT, (m) => redactUrl(m))
    .replace(PATH_QUERY, (_m, lead: string, path: string) => `${lead}${path}`)
    .replace(BEARER, '$1 [redacted]')
    .replace(SECRET_PAIR, '$1[redacted]')
    .replace(SECRET_JSON_PAIR, '$1[redacted]');
}

/** Serializes an error for logs: type, message, code, stack and cause, never query parameters, row details or URL queries. */
export function safeError(err: unknown, depth = 0): SafeError {
  if (!(err instanceof Error)) return { type: typeof err, message: redactText(String(err)) };
  const code = (err as { code?: unknown }).code;
  const out: SafeError = {
    type: err.name,
    message: redactText(err.message),
    ...((typeof code === 'string' || typeof code === 'number') && { code }),
    ...(err.stack && { stack: redactText(err.stack) }),
  };
  if (err.cause !== undefined && depth < 3) out.cause = safeError(err.cause, depth + 1);
  return out;
}

/** Any value made safe to log: errors serialized, strings redacted, secret-named fields censored. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (value instanceof Error) return safeError(value);
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= 4) return '[object]';
  if (Array.isArray(value)) return value.slice(0, 20).map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY_SET.has(k.toLowerCase()) ? '[redacted]' : redactValue(v, depth + 1);
  return out;
}

const baseOptions = (level: string): pino.LoggerOptions => ({
  level,
  redact: { paths: redactPaths, censor: '[redacted]' },
  serializers: { err: safeError, error: safeError, url: (v: unknown) => (typeof v === 'string' ? redactUrl(v) : v) },
  base: { service: process.env.LARKSPUR_PROCESS ?? 'web' },
});

/** A logger with the redaction policy; tests pass a destination to read what would be written. */
export function createLogger(destination?: pino.DestinationStream, level = process.env.LOG_LEVEL ?? 'info'): pino.Logger {
  return destination ? pino(baseOptions(level), destination) : pino(baseOptions(level));
}

export function logger(): pino.Logger {
  instance ??= createLogger();
  return instance;
}

/** Replaces the process logger (tests capture lines); returns a function that puts the old one back. */
export function setLogger(next: pino.Logger): () => void {
  const previous = instance;
  instance = next;
  return () => {
    instance = previous;
  };
}

type AuthLogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * better-auth's `logger` option: its lines go through our logger and redaction, since it logs
 * driver errors whose parameters include session tokens. Level `info` passes everything but debug
 * on to pino, which applies LOG_LEVEL; at `error`, `warn` or `debug` better-auth would also print
 * request errors to the console through its own default logger.
 */
export function authLogger(): { level: AuthLogLevel; log: (level: AuthLogLevel, message: string, ...args: unknown[]) => void } {
  return {
    level: 'info',
    log(at, message, ...args) {
      const fields = { component: 'better-auth', ...(args.length > 0 && { details: args.map((a) => redactValue(a)) }) };
      logger()[at](fields, redactText(String(message)));
    },
  };
}
