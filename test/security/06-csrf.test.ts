// Attack: a page on another site posts to our API with the victim's session cookie (a text/plain
// form or fetch needs no preflight). Cookie-authenticated writes must come from our origin as JSON;
// bearer requests are exempt because no other site can attach the token.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as workspaces from '@/app/api/workspaces/route';
import * as ws from '@/app/api/workspaces/[id]/route';
import * as authRoute from '@/app/api/auth/[...all]/route';
import { PEER_ADDRESS_HEADER } from '@/server/http/client-address';
import { authRequest, call, signUp, TEST_APP_URL, TEST_PASSWORD, type TestUser } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';

let t: TestDatabase;
let owner: TestUser;
let cookie: string;
let wsId: string;
const EVIL = 'https://evil.example';

beforeAll(async () => {
  t = await useTestDatabase();
  owner = await signUp('Olive');
  const signedIn = await authRequest('/sign-in/email', { email: owner.email, password: TEST_PASSWORD }, '10.6.0.1');
  const match = /(better-auth\.session_token=[^;]+)/.exec(signedIn.headers.get('set-cookie') ?? '');
  if (!match) throw new Error('sign-in set no session cookie');
  cookie = match[1]!;
  const created = await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Csrf', slug: 'csrf-team', issue_prefix: 'CS' } });
  wsId = created.body.workspace.id;
});
afterAll(async () => t?.drop());

const rename = (headers: Record<string, string>, name = 'Pwned', token?: string) =>
  call(ws.PATCH, 'PATCH', { params: { id: wsId }, token, rawBody: JSON.stringify({ name }), headers: { cookie, ...headers } });

describe('cookie-authenticated writes', () => {
  test('a cross-site text/plain post is refused (403), and so is a cross-site JSON one', async () => {
    expect((await rename({ origin: EVIL, 'content-type': 'text/plain' })).status).toBe(403);
    expect((await rename({ origin: EVIL, 'content-type': 'application/json' })).status).toBe(403);
    expect((await rename({ 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' })).status).toBe(403);
    // No Origin and no fetch metadata: nothing shows the request came from our pages.
    expect((await rename({ 'content-type': 'application/json' })).status).toBe(403);
    const created = await call(workspaces.POST, 'POST', {
      rawBody: JSON.stringify({ name: 'Theirs', slug: 'theirs-team', issue_prefix: 'TH' }),
      headers: { cookie, origin: EVIL, 'content-type': 'text/plain;charset=UTF-8' },
    });
    expect(created.status).toBe(403);
  });

  test('from our own origin the body must be JSON (415 otherwise)', async () => {
    expect((await rename({ origin: TEST_APP_URL, 'content-type': 'text/plain' })).status).toBe(415);
    expect((await rename({ origin: TEST_APP_URL, 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
  });

  test('same-origin JSON writes succeed, by Origin or by Sec-Fetch-Site when Origin is absent', async () => {
    const byOrigin = await rename({ origin: TEST_APP_URL, 'content-type': 'application/json; charset=utf-8' }, 'Renamed once');
    expect(byOrigin.status).toBe(200);
    const byFetchMetadata = await rename({ 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' }, 'Renamed twice');
    expect(byFetchMetadata.status).toBe(200);
    expect(byFetchMetadata.body.workspace.name).toBe('Renamed twice');
  });

  test('reads are not affected', async () => {
    expect((await call(ws.GET, 'GET', { params: { id: wsId }, headers: { cookie, origin: EVIL } })).status).toBe(200);
  });
});

describe('bearer-authenticated writes', () => {
  test('are exempt from the origin check', async () => {
    const res = await call(ws.PATCH, 'PATCH', { token: owner.token, params: { id: wsId }, body: { name: 'By script' }, headers: { origin: EVIL } });
    expect(res.status).toBe(200);
  });

  test('are authenticated by the token alone: a bad token with a good cookie is not signed in', async () => {
    const res = await rename({ origin: EVIL, 'content-type': 'application/json' }, 'Pwned', 'not-a-token');
    expect(res.status).toBe(401);
  });
});

describe("better-auth's own endpoints", () => {
  test('refuse a cross-site cookie write', async () => {
    const res = await authRoute.POST(
      new Request(`${TEST_APP_URL}/api/auth/update-user`, {
        method: 'POST',
        headers: { cookie, origin: EVIL, 'content-type': 'application/json', [PEER_ADDRESS_HEADER]: '10.6.0.2' },
        body: JSON.stringify({ name: 'Pwned' }),
      }),
    );
    expect(res.status).toBe(403);
  });
});
