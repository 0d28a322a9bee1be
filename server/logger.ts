import 'server-only';
import pino from 'pino';

let instance: pino.Logger | undefined;

// Fields that can carry secrets are censored wherever they appear in a log object.
const redactPaths = [
  'password',
  '*.password',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'appSecret',
  '*.appSecret',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers.cookie',
];

type SafeError = { type: string; message: string; code?: string | number; stack?: string; cause?: SafeError };

// Query errors carry the statement's parameters (keys, tokens, message text) in their message, stack
// and fields; drivers add row values in `detail`. Logs keep what explains the failure, not the data.
const PARAMS_LINE = /\nparams: [\s\S]*?(?=\n\s+at |$)/;

/** Serializes an error for logs: type, message, code, stack and cause, never query parameters or row details. */
export function safeError(err: unknown, depth = 0): SafeError {
  if (!(err instanceof Error)) return { type: typeof err, message: String(err) };
  const code = (err as { code?: unknown }).code;
  const out: SafeError = {
    type: err.name,
    message: err.message.replace(PARAMS_LINE, ''),
    ...((typeof code === 'string' || typeof code === 'number') && { code }),
    ...(err.stack && { stack: err.stack.replace(PARAMS_LINE, '') }),
  };
  if (err.cause !== undefined && depth < 3) out.cause = safeError(err.cause, depth + 1);
  return out;
}

export function logger(): pino.Logger {
  instance ??= pino({
    level: process.env.LOG_LEVEL ?? 'info',
    redact: { paths: redactPaths, censor: '[redacted]' },
    serializers: { err: safeError },
    base: { service: process.env.LARKSPUR_PROCESS ?? 'web' },
  });
  return instance;
}
