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

export function logger(): pino.Logger {
  instance ??= pino({
    level: process.env.LOG_LEVEL ?? 'info',
    redact: { paths: redactPaths, censor: '[redacted]' },
    base: { service: process.env.LARKSPUR_PROCESS ?? 'web' },
  });
  return instance;
}
