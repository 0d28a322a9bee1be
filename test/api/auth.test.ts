import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as me from '@/app/api/me/route';
import { handleAuthRequest } from '@/server/http/auth-request';
import { PEER_ADDRESS_HEADER } from '@/server/http/client-address';
import { call, signUp, TEST_APP_URL } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';

let t: TestDatabase;
beforeAll(async () => {
  process.env.SIGN_IN_RATE_LIMIT_MAX = '3';
  t = await useTestDatabase();
});
afterAll(async () => t?.drop());

function signIn(email: string, password: string, ip: string) {
  return handleAuthRequest(
    new Request(`${TEST_APP_URL}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: TEST_APP_URL, [PEER_ADDRESS_HEADER]: ip },
      body: JSON.stringify({ email, password }),
    }),
  );
}

describe('sign-in', () => {
  test('a bearer token from sign-in reaches the API; sessions come as httpOnly cookies too', async () => {
    const user = await signUp('Bea', 'bea@example.com');
    const res = await signIn('bea@example.com', 'correct-horse-battery', '10.1.0.1');
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/HttpOnly/i);
    const token = res.headers.get('set-auth-token')!;
    const who = await call(me.GET, 'GET', { token });
    expect(who.status).toBe(200);
    expect(who.body.user).toMatchObject({ id: user.id, email: 'bea@example.com' });
    expect((await call(me.GET, 'GET', { token: 'not-a-session' })).status).toBe(401);
  });

  test('wrong passwords are refused, and repeated attempts from one address are rate limited', async () => {
    await signUp('Rex', 'rex@example.com');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await signIn('rex@example.com', 'wrong-password-123', '10.9.9.9')).status);
    expect(statuses.slice(0, 3).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(3)).toEqual([429, 429]);
    // Another address is not affected.
    expect((await signIn('rex@example.com', 'correct-horse-battery', '10.9.9.10')).status).toBe(200);
  });

  test('sign-out ends the session', async () => {
    const user = await signUp('Sol');
    const out = await handleAuthRequest(
      new Request(`${TEST_APP_URL}/api/auth/sign-out`, { method: 'POST', headers: { authorization: `Bearer ${user.token}`, origin: TEST_APP_URL } }),
    );
    expect(out.status).toBe(200);
    expect((await call(me.GET, 'GET', { token: user.token })).status).toBe(401);
  });
});
