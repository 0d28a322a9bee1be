import 'server-only';
import { z } from 'zod';
import { parseFrameAncestors } from './http/security-headers';
import { AllowlistError, parseEndpointAllowlist } from './net/endpoint-allowlist';

function optionalUrl(name: string) {
  return z
    .string()
    .optional()
    .transform((v) => (v?.trim() ? v.trim() : undefined))
    .refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), { message: `${name} must be an http(s) URL` });
}

/** Room left between the worker's shutdown steps and its forced exit, for closing the pool and logging. */
export const SHUTDOWN_MARGIN_MS = 2_000;

/** Limits the services enforce on what one account may create. */
const quotaFields = {
  MAX_WORKSPACES_PER_USER: z.coerce.number().int().min(1).default(20),
  MAX_CHAT_SESSIONS_PER_HOUR: z.coerce.number().int().min(1).default(60),
};
const quotaSchema = z.object(quotaFields);
export type Quotas = z.infer<typeof quotaSchema>;

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
  // Reverse proxies in front of the web server whose X-Forwarded-For entries are believed; 0 = none.
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0, { message: 'TRUST_PROXY_HOPS must be 0 or more' }).max(10).default(0),
  // Origins allowed to put the app in a frame, space- or comma-separated; unset: none.
  FRAME_ANCESTORS: z
    .string()
    .optional()
    .transform(parseFrameAncestors)
    .refine((list) => list.every((o) => /^https?:\/\/(\*\.)?[a-z0-9.-]+(:\d+)?$/i.test(o)), {
      message: 'FRAME_ANCESTORS must list origins such as https://portal.example.com',
    }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // invite: after the first account, only a valid invitation link lets someone sign up.
  SIGN_UP: z.enum(['open', 'invite'], { message: 'SIGN_UP must be open or invite' }).default('invite'),
  SIGN_IN_RATE_LIMIT_MAX: z.coerce.number().int().positive().default(10),
  SIGN_IN_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().positive().default(60),
  // Agent runs wait on model endpoints, not on this process: a worker keeps many in flight.
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(1000),
  // Database connections of the worker's pool (its listeners come on top). Runs hold none while
  // they wait on a model, so this does not grow with WORKER_CONCURRENCY.
  // Runs of one workspace beyond this many (across all workers) wait while another workspace has runnable tasks.
  WORKER_WORKSPACE_FAIR_SHARE: z.coerce.number().int().min(1).max(100_000).default(200),
  WORKER_DB_POOL_SIZE: z.coerce.number().int().min(4).max(500).default(20),
  WORKER_POLL_INTERVAL_MS: z.coerce.number().int().min(50).default(2000),
  WORKER_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(15000),
  AGENT_RUNTIME_TIMEOUT_MS: z.coerce.number().int().min(100).default(60000),
  // Hosts and CIDR ranges agents may call besides public addresses (self-hosted models).
  AGENT_ENDPOINT_ALLOWLIST: z.string().optional().superRefine((v, ctx) => {
    try {
      parseEndpointAllowlist(v);
    } catch (err) {
      if (!(err instanceof AllowlistError)) throw err;
      ctx.addIssue({ code: 'custom', message: `AGENT_ENDPOINT_ALLOWLIST must list host names, addresses or CIDR ranges separated by commas: ${err.message}` });
    }
  }),
  NODE_ID: z.string().min(1).optional(),
  WORKER_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  // Loopback by default: the ops endpoints are for a local scraper or probe, not the network.
  WORKER_HOST: z.string().min(1).default('127.0.0.1'),
  // When set, /metrics and /readyz want `Authorization: Bearer <token>`; /healthz stays open.
  WORKER_OPS_TOKEN: z
    .string()
    .optional()
    .transform((v) => (v?.trim() ? v.trim() : undefined))
    .refine((v) => v === undefined || v.length >= 16, { message: 'WORKER_OPS_TOKEN must be at least 16 characters' }),
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
  // Only for a local simulator or proxy: allows http:// overrides when NODE_ENV=production.
  LARK_ALLOW_INSECURE_HOSTS: z.enum(['true', 'false'], { message: 'LARK_ALLOW_INSECURE_HOSTS must be true or false' }).default('false').transform((v) => v === 'true'),
  LARK_OUTBOX_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  LARK_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  ...quotaFields,
  // A killed worker's bots are taken over once its node heartbeat is NODE_STALE_AFTER_MS (6 s) old,
  // or at the latest when their leases run out: with an 8 s TTL, a takeover of 1,000 bots, reconnects
  // included, stays within 15 s. A renewal every 2 s (one statement for all held bots) leaves a
  // worker whose renewals fail 6 s before it closes its connections, 2 s before anyone may take them.
  LARK_LEASE_TTL_MS: z.coerce.number().int().min(200).default(8_000),
  LARK_LEASE_RENEW_MS: z.coerce.number().int().min(50).default(2_000),
  // The safety net behind NOTIFY (installs, revokes, rotations): takeovers wait for lease expiry or
  // a stale heartbeat, never for it. One SELECT of the active installations per worker per tick.
  LARK_HUB_SWEEP_MS: z.coerce.number().int().min(50).default(5_000),
  LARK_BACKOFF_MIN_MS: z.coerce.number().int().min(1).default(1_000),
  LARK_BACKOFF_MAX_MS: z.coerce.number().int().min(1).default(60_000),
  LARK_BACKOFF_RESET_AFTER_MS: z.coerce.number().int().min(1).default(60_000),
  // With the margin, hub shutdown and lease release fit under WORKER_SHUTDOWN_TIMEOUT_MS (8 + 3 + 2 <= 15 s).
  LARK_LEASE_RELEASE_TIMEOUT_MS: z.coerce.number().int().min(10).default(3_000),
  LARK_HUB_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(10).default(8_000),
  LARK_REGISTRATION_TICK_MS: z.coerce.number().int().min(20).default(1_000),
  LARK_HTTP_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  LARK_DISPATCH_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  // Connections of the ACK path's own pool: dispatch never waits behind agent runs and deliveries for one.
  LARK_DISPATCH_DB_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(8),
  // The Lark connections and the ACK path run on a thread of their own, off the loop of agent runs and deliveries.
  LARK_ACK_THREAD: z.enum(['true', 'false'], { message: 'LARK_ACK_THREAD must be true or false' }).default('true').transform((v) => v === 'true'),
  // The largest image or file the worker downloads from Lark (Lark allows user files up to 100 MB).
  ATTACHMENT_MAX_BYTES: z.coerce.number().int().min(1024).max(100 * 1024 * 1024, { message: 'ATTACHMENT_MAX_BYTES is at most 104857600 (100 MB, Lark\'s own limit)' }).default(20 * 1024 * 1024),
  // A text-like file (txt, md, csv, json, code) up to this size is given to the agent inline.
  AGENT_INLINE_FILE_MAX_BYTES: z.coerce.number().int().min(0).max(1024 * 1024).default(64 * 1024),
  // The recent conversation an @-mention in a group or topic gives the agent: at most this many
  // messages, none older than this many minutes (whichever is smaller; 0 turns it off).
  LARK_CONTEXT_MESSAGES: z.coerce.number().int().min(0).max(200).default(20),
  LARK_CONTEXT_MINUTES: z.coerce.number().int().min(0).max(7 * 24 * 60).default(60),
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

/** Plain http to Lark would carry app secrets and tenant tokens in clear; production refuses it unless told. */
function insecureLarkHosts(source: Record<string, string | undefined>, e: Env): string[] {
  if (source.NODE_ENV !== 'production' || e.LARK_ALLOW_INSECURE_HOSTS) return [];
  return (['LARK_OPEN_BASE_URL', 'LARK_ACCOUNTS_BASE_URL'] as const)
    .filter((name) => e[name]?.toLowerCase().startsWith('http://'))
    .map((name) => `  ${name}: ${name} must be an https:// URL in production (set LARK_ALLOW_INSECURE_HOSTS=true only for a local simulator or proxy)`);
}

export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const insecure = insecureLarkHosts(source, result.data);
  if (insecure.length > 0) throw new ConfigError(`Invalid configuration:\n${insecure.join('\n')}`);
  return result.data;
}

let cached: Env | undefined;

export function env(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}

let cachedQuotas: Quotas | undefined;

/** The quota settings alone, so a service enforces them wherever it runs, whatever else is configured. */
export function quotas(): Quotas {
  if (cachedQuotas) return cachedQuotas;
  const result = quotaSchema.safeParse(process.env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  cachedQuotas = result.data;
  return cachedQuotas;
}

/** Tests change the environment between cases within one process. */
export function resetEnvForTests(): void {
  cached = undefined;
  cachedQuotas = undefined;
}
