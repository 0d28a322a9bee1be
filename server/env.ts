import 'server-only';
import { z } from 'zod';

function optionalUrl(name: string) {
  return z
    .string()
    .optional()
    .transform((v) => (v?.trim() ? v.trim() : undefined))
    .refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), { message: `${name} must be an http(s) URL` });
}

/** Room left between the worker's shutdown steps and its forced exit, for closing the pool and logging. */
export const SHUTDOWN_MARGIN_MS = 2_000;

// Every setting the web and worker read, validated once. Defaults live here and nowhere else.
const envSchema = z.object({
  DATABASE_URL: z.url({ message: 'DATABASE_URL must be a postgres:// URL' }).refine((v) => /^postgres(ql)?:\/\//.test(v), {
    message: 'DATABASE_URL must start with postgres:// or postgresql://',
  }),
  APP_URL: z.url({ message: 'APP_URL must be an absolute http(s) URL, e.g. http://localhost:3000' }).default('http://localhost:3000'),
  BETTER_AUTH_SECRET: z
    .string()
    .min(32, { message: 'BETTER_AUTH_SECRET must be at least 32 characters' })
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SIGN_IN_RATE_LIMIT_MAX: z.coerce.number().int().positive().default(10),
  SIGN_IN_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().positive().default(60),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  WORKER_POLL_INTERVAL_MS: z.coerce.number().int().min(50).default(2000),
  WORKER_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(15000),
  AGENT_RUNTIME_TIMEOUT_MS: z.coerce.number().int().min(100).default(60000),
  NODE_ID: z.string().min(1).optional(),
  WORKER_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  WORKER_HOST: z.string().min(1).default('0.0.0.0'),
  // base64 of 32 random bytes; encrypts Lark app secrets and device codes. Unset: Lark is off.
  LARK_SECRET_KEY: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || Buffer.from(v.trim(), 'base64').length === 32, {
      message: 'LARK_SECRET_KEY must be base64 of exactly 32 bytes (e.g. `openssl rand -base64 32`)',
    }),
  // Deployment-wide overrides of the Lark hosts; `{region}` is replaced by feishu or lark.
  LARK_OPEN_BASE_URL: optionalUrl('LARK_OPEN_BASE_URL'),
  LARK_ACCOUNTS_BASE_URL: optionalUrl('LARK_ACCOUNTS_BASE_URL'),
  LARK_LEASE_TTL_MS: z.coerce.number().int().min(200).default(30_000),
  LARK_LEASE_RENEW_MS: z.coerce.number().int().min(50).default(10_000),
  LARK_HUB_SWEEP_MS: z.coerce.number().int().min(50).default(15_000),
  LARK_BACKOFF_MIN_MS: z.coerce.number().int().min(1).default(1_000),
  LARK_BACKOFF_MAX_MS: z.coerce.number().int().min(1).default(60_000),
  LARK_BACKOFF_RESET_AFTER_MS: z.coerce.number().int().min(1).default(60_000),
  // With the margin, hub shutdown and lease release fit under WORKER_SHUTDOWN_TIMEOUT_MS (8 + 3 + 2 <= 15 s).
  LARK_LEASE_RELEASE_TIMEOUT_MS: z.coerce.number().int().min(10).default(3_000),
  LARK_HUB_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(10).default(8_000),
  LARK_REGISTRATION_TICK_MS: z.coerce.number().int().min(20).default(1_000),
  LARK_HTTP_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  LARK_DISPATCH_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
}).superRefine(crossCheck);

export type Env = z.infer<typeof envSchema>;

type Fields = {
  LARK_LEASE_TTL_MS: number;
  LARK_LEASE_RENEW_MS: number;
  LARK_BACKOFF_MIN_MS: number;
  LARK_BACKOFF_MAX_MS: number;
  LARK_HUB_SHUTDOWN_TIMEOUT_MS: number;
  LARK_LEASE_RELEASE_TIMEOUT_MS: number;
  WORKER_SHUTDOWN_TIMEOUT_MS: number;
};

// Settings that are each valid alone but break an invariant together.
function crossCheck(e: Fields, ctx: z.RefinementCtx): void {
  const refuse = (name: keyof Fields, message: string) => ctx.addIssue({ code: 'custom', path: [name], message: `${name} ${message}` });
  // At most half the TTL: a renewal that fails leaves at least one more tick to notice it and stop
  // the connections before another worker may take the lease.
  if (e.LARK_LEASE_RENEW_MS * 2 > e.LARK_LEASE_TTL_MS) {
    refuse(
      'LARK_LEASE_RENEW_MS',
      `(${e.LARK_LEASE_RENEW_MS}) must be at most half of LARK_LEASE_TTL_MS (${e.LARK_LEASE_TTL_MS}), so a failed renewal stops the connections before the lease expires`,
    );
  }
  if (e.LARK_BACKOFF_MIN_MS > e.LARK_BACKOFF_MAX_MS) {
    refuse('LARK_BACKOFF_MIN_MS', `(${e.LARK_BACKOFF_MIN_MS}) must not exceed LARK_BACKOFF_MAX_MS (${e.LARK_BACKOFF_MAX_MS})`);
  }
  // The forced exit must not cut off the lease release, or another worker waits out the TTL.
  const shutdownSteps = e.LARK_HUB_SHUTDOWN_TIMEOUT_MS + e.LARK_LEASE_RELEASE_TIMEOUT_MS + SHUTDOWN_MARGIN_MS;
  if (shutdownSteps > e.WORKER_SHUTDOWN_TIMEOUT_MS) {
    refuse(
      'WORKER_SHUTDOWN_TIMEOUT_MS',
      `(${e.WORKER_SHUTDOWN_TIMEOUT_MS}) must be at least LARK_HUB_SHUTDOWN_TIMEOUT_MS (${e.LARK_HUB_SHUTDOWN_TIMEOUT_MS}) + LARK_LEASE_RELEASE_TIMEOUT_MS (${e.LARK_LEASE_RELEASE_TIMEOUT_MS}) + ${SHUTDOWN_MARGIN_MS} ms, so the forced exit cannot cut off the lease release`,
    );
  }
}

export class ConfigError extends Error {}

export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}

let cached: Env | undefined;

export function env(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}

/** Tests change the environment between cases within one process. */
export function resetEnvForTests(): void {
  cached = undefined;
}
