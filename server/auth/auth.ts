import 'server-only';
import { betterAuth } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { bearer } from 'better-auth/plugins';
import { db } from '../db/client';
import * as schema from '../db/schema';
import { ConfigError, env } from '../env';
import { CLIENT_ADDRESS_HEADER } from '../http/client-address';
import { authLogger } from '../logger';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './password-policy';
import { signUpPolicy } from './sign-up-policy';

/** Our own origins: better-auth checks writes against them, and so does the route wrapper. */
export function trustedOrigins(appUrl: string): string[] {
  const url = new URL(appUrl);
  const origins = new Set([url.origin]);
  // The same server is commonly reached as localhost and 127.0.0.1; both are the same origin to us.
  if (url.hostname === 'localhost' || url.hostname === '127.0.0.1') {
    for (const host of ['localhost', '127.0.0.1']) origins.add(`${url.protocol}//${host}${url.port ? `:${url.port}` : ''}`);
  }
  return [...origins];
}

function createAuth() {
  const e = env();
  // Without it better-auth signs sessions with a public default; `npm start` generates one.
  if (!e.BETTER_AUTH_SECRET) throw new ConfigError('BETTER_AUTH_SECRET is not set: set it to 32+ random characters (e.g. `openssl rand -base64 32`)');
  const signInLimit = { window: e.SIGN_IN_RATE_LIMIT_WINDOW_SECONDS, max: e.SIGN_IN_RATE_LIMIT_MAX };
  return betterAuth({
    appName: 'Larkspur',
    baseURL: e.APP_URL,
    basePath: '/api/auth',
    secret: e.BETTER_AUTH_SECRET,
    trustedOrigins: trustedOrigins(e.APP_URL),
    logger: authLogger(),
    database: drizzleAdapter(db(), { provider: 'pg', schema }),
    // autoSignIn off: better-auth then answers a sign-up for a taken email exactly like a new one
    // (a synthetic user, no session), so sign-up cannot tell who has an account. The form signs in next.
    emailAndPassword: { enabled: true, minPasswordLength: PASSWORD_MIN_LENGTH, maxPasswordLength: PASSWORD_MAX_LENGTH, autoSignIn: false },
    user: { additionalFields: { locale: { type: 'string', required: false, input: false } } },
    session: { expiresIn: 60 * 60 * 24 * 30, updateAge: 60 * 60 * 24 },
    advanced: {
      database: { generateId: () => crypto.randomUUID() },
      useSecureCookies: e.APP_URL.startsWith('https://'),
      defaultCookieAttributes: { httpOnly: true, sameSite: 'lax' },
      // better-auth skips its origin checks when NODE_ENV=test; they stay on everywhere.
      disableOriginCheck: false,
      // Set by the /api/auth mount from TRUST_PROXY_HOPS, never taken from the client.
      ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] },
    },
    rateLimit: {
      enabled: true,
      storage: 'database',
      modelName: 'rateLimit',
      window: 60,
      max: 300,
      customRules: { '/sign-in/email': signInLimit, '/sign-up/email': signInLimit },
    },
    // Desktop webviews and scripts send `Authorization: Bearer <token>`, the signed token from the
    // `set-auth-token` header; the raw token as stored in the database is refused.
    plugins: [bearer({ requireSignature: true }), signUpPolicy()],
    telemetry: { enabled: false },
  });
}

export type Auth = ReturnType<typeof createAuth>;

const globalForAuth = globalThis as unknown as { larkspurAuth?: Auth };

export function auth(): Auth {
  globalForAuth.larkspurAuth ??= createAuth();
  return globalForAuth.larkspurAuth;
}

export type SessionUser = { id: string; email: string; name: string; locale: string | null };

/** Resolves the signed-in user from a session cookie or a bearer token; null when neither is valid. */
export async function getSessionUser(headers: Headers): Promise<SessionUser | null> {
  const result = await auth().api.getSession({ headers });
  if (!result) return null;
  const u = result.user as typeof result.user & { locale?: string | null };
  return { id: u.id, email: u.email, name: u.name, locale: u.locale ?? null };
}
