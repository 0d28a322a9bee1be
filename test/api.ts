import { auth } from '../server/auth/auth';

export const TEST_APP_URL = 'http://localhost:3000';

type Handler = (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;

export type TestUser = { id: string; email: string; token: string };

let counter = 0;

/** Signs a user up through the real auth handler and returns their bearer token. */
export async function signUp(name = 'Test User', email?: string): Promise<TestUser> {
  counter += 1;
  const address = email ?? `user${counter}-${Date.now()}@example.com`;
  const res = await auth().handler(
    new Request(`${TEST_APP_URL}/api/auth/sign-up/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: TEST_APP_URL, 'x-forwarded-for': `10.0.0.${counter % 250}` },
      body: JSON.stringify({ email: address, password: 'correct-horse-battery', name }),
    }),
  );
  if (res.status !== 200) throw new Error(`sign-up failed: ${res.status} ${await res.text()}`);
  const token = res.headers.get('set-auth-token');
  const body = (await res.json()) as { user: { id: string } };
  if (!token) throw new Error('sign-up returned no bearer token');
  return { id: body.user.id, email: address, token };
}

export type CallOptions = { token?: string; params?: Record<string, string>; body?: unknown; rawBody?: string; query?: string };

/** Invokes a route handler the way Next.js does, with a bearer token instead of a cookie. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
export async function call(handler: Handler, method: string, opts: CallOptions = {}): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
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
