import * as acceptInvitation from '../app/api/invitations/accept/route';
import * as invitations from '../app/api/workspaces/[id]/invitations/route';
import { handleAuthRequest } from '../server/http/auth-request';
import { PEER_ADDRESS_HEADER } from '../server/http/client-address';

export const TEST_APP_URL = 'http://localhost:3000';

/** The app's own origin as the server under test knows it (a suite may point APP_URL elsewhere). */
const appOrigin = () => new URL(process.env.APP_URL ?? TEST_APP_URL).origin;

type Handler = (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;

export type TestUser = { id: string; email: string; token: string };

let counter = 0;

export const TEST_PASSWORD = 'correct-horse-battery';

/** POSTs JSON to a better-auth endpoint from the app's own origin, as a client at `ip` (the TCP peer). */
export function authRequest(path: string, body: unknown, ip = '10.0.0.1'): Promise<Response> {
  return handleAuthRequest(
    new Request(`${appOrigin()}/api/auth${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: appOrigin(), [PEER_ADDRESS_HEADER]: ip },
      body: JSON.stringify(body),
    }),
  );
}

/**
 * Signs a user up through the real auth handler, then signs in (sign-up starts no session, so it
 * answers alike for taken and new emails), and returns the bearer token.
 */
export async function signUp(name = 'Test User', email?: string, options: { invitationToken?: string } = {}): Promise<TestUser> {
  counter += 1;
  const address = email ?? `user${counter}-${Date.now()}@example.com`;
  const ip = `10.0.0.${counter % 250}`;
  const res = await authRequest('/sign-up/email', { email: address, password: TEST_PASSWORD, name, ...options }, ip);
  if (res.status !== 200) throw new Error(`sign-up failed: ${res.status} ${await res.text()}`);
  const signedIn = await authRequest('/sign-in/email', { email: address, password: TEST_PASSWORD }, ip);
  if (signedIn.status !== 200) throw new Error(`sign-in after sign-up failed: ${signedIn.status} ${await signedIn.text()}`);
  const token = signedIn.headers.get('set-auth-token');
  const body = (await signedIn.json()) as { user: { id: string } };
  if (!token) throw new Error('sign-in returned no bearer token');
  return { id: body.user.id, email: address, token };
}

/**
 * Brings `invitee` into a workspace the way a person joins: `inviter` (an owner or admin) creates
 * an invitation for their email, and the invitee accepts it through the real routes.
 */
export async function joinByInvitation(input: { inviter: TestUser; workspaceId: string; invitee: TestUser; role?: 'admin' | 'member' }): Promise<void> {
  const created = await call(invitations.POST, 'POST', {
    token: input.inviter.token,
    params: { id: input.workspaceId },
    body: { email: input.invitee.email, role: input.role ?? 'member' },
  });
  if (created.status !== 201) throw new Error(`invitation failed: ${created.status} ${JSON.stringify(created.body)}`);
  const accepted = await call(acceptInvitation.POST, 'POST', { token: input.invitee.token, body: { token: created.body.token } });
  if (accepted.status !== 200) throw new Error(`accepting the invitation failed: ${accepted.status} ${JSON.stringify(accepted.body)}`);
}

/** `headers` adds to or replaces the defaults (a JSON content type, the bearer token). */
export type CallOptions = { token?: string; params?: Record<string, string>; body?: unknown; rawBody?: string; query?: string; headers?: Record<string, string> };

/** Invokes a route handler the way Next.js does, with a bearer token instead of a cookie. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
export async function call(handler: Handler, method: string, opts: CallOptions = {}): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  Object.assign(headers, opts.headers);
  const req = new Request(`${TEST_APP_URL}/api/test${opts.query ? `?${opts.query}` : ''}`, {
    method,
    headers,
    body: method === 'GET' || method === 'DELETE' ? undefined : (opts.rawBody ?? JSON.stringify(opts.body ?? {})),
  });
  // Like Next.js: routes without dynamic segments get params that resolve to undefined.
  const res = await handler(req, { params: Promise.resolve(opts.params as Record<string, string>) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
