import 'server-only';
import { betterAuth } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { bearer } from 'better-auth/plugins';
import { db } from '../db/client';
import * as schema from '../db/schema';
import { env } from '../env';

function trustedOrigins(appUrl: string): string[] {
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
  const signInLimit = { window: e.SIGN_IN_RATE_LIMIT_WINDOW_SECONDS, max: e.SIGN_IN_RATE_LIMIT_MAX };
  return betterAuth({
    appName: 'Larkspur',
    baseURL: e.APP_URL,
    basePath: '/api/auth',
    secret: e.BETTER_AUTH_SECRET,
    trustedOrigins: trustedOrigins(e.APP_URL),
    database: drizzleAdapter(db(), { provider: 'pg', schema }),
    emailAndPassword: { enabled: true, minPasswordLength: 8, maxPasswordLength: 128, autoSignIn: true },
    user: { additionalFields: { locale: { type: 'string', required: false, input: false } } },
    session: { expiresIn: 60 * 60 * 24 * 30, updateAge: 60 * 60 * 24 },
    advanced: {
      database: { generateId: () => crypto.randomUUID() },
      useSecureCookies: e.APP_URL.startsWith('https://'),
      defaultCookieAttributes: { httpOnly: true, sameSite: 'lax' },
    },
    rateLimit: {
      enabled: true,
      storage: 'database',
      modelName: 'rateLimit',
      window: 60,
      max: 300,
      customRules: { '/sign-in/email': signInLimit, '/sign-up/email': signInLimit },
    },
    // Desktop webviews and scripts send `Authorization: Bearer <session token>`.
    plugins: [bearer()],
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
