// Attack: the raw session token as stored in the database (read from a backup, a log, a replica)
// used as a bearer token. Only the signed token better-auth hands out may authenticate.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as me from '@/app/api/me/route';
import { authRequest, call, signUp, TEST_PASSWORD, type TestUser } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';

let t: TestDatabase;
let user: TestUser;

beforeAll(async () => {
  t = await useTestDatabase();
  user = await signUp('Sig');
});
afterAll(async () => t?.drop());

describe('bearer tokens', () => {
  test('the raw token from the session table is refused', async () => {
    const { rows } = await t.pool.query<{ token: string }>('SELECT token FROM "session" WHERE user_id = $1', [user.id]);
    expect(rows.length).toBeGreaterThan(0);
    for (const { token } of rows) expect((await call(me.GET, 'GET', { token })).status).toBe(401);
  });

  test('the signed token from set-auth-token (what desktop webviews keep) works', async () => {
    const res = await authRequest('/sign-in/email', { email: user.email, password: TEST_PASSWORD }, '10.15.0.1');
    const token = res.headers.get('set-auth-token')!;
    expect(token).toMatch(/^[^.]+\.[^.]+$/);
    const who = await call(me.GET, 'GET', { token });
    expect(who.status).toBe(200);
    expect(who.body.user.id).toBe(user.id);
  });

  test('a signed token with a forged signature is refused', async () => {
    const [raw] = user.token.split('.');
    expect((await call(me.GET, 'GET', { token: `${raw}.${'A'.repeat(43)}` })).status).toBe(401);
  });
});
