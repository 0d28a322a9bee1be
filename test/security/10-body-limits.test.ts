// Attack: oversized bodies and names, and control characters, sent to every kind of route. Each is
// refused with a 4xx before it reaches the database: never stored, never a 500.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as authRoute from '@/app/api/auth/[...all]/route';
import * as workspaces from '@/app/api/workspaces/route';
import * as bySlug from '@/app/api/workspaces/by-slug/[slug]/route';
import * as issues from '@/app/api/workspaces/[id]/issues/route';
import { PEER_ADDRESS_HEADER } from '@/server/http/client-address';
import { call, signUp, TEST_APP_URL, type TestUser } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';

let t: TestDatabase;
let owner: TestUser;
let wsId: string;
let peer = 0;

beforeAll(async () => {
  t = await useTestDatabase();
  owner = await signUp('Bo');
  wsId = (await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Limits', slug: 'limits-team', issue_prefix: 'LM' } })).body.workspace.id;
});
afterAll(async () => t?.drop());

function signUpWith(body: Record<string, unknown>) {
  peer += 1;
  return authRoute.POST(
    new Request(`${TEST_APP_URL}/api/auth/sign-up/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: TEST_APP_URL, [PEER_ADDRESS_HEADER]: `10.10.0.${peer}` },
      body: JSON.stringify({ password: 'correct-horse-battery', ...body }),
    }),
  );
}

async function accounts(): Promise<number> {
  return Number((await t.pool.query('SELECT count(*) AS n FROM "user"')).rows[0].n);
}

describe('sign-up (better-auth behind our mount)', () => {
  test('a 200,000-character name is refused (413) and no account is made', async () => {
    const before = await accounts();
    const res = await signUpWith({ email: 'huge@example.com', name: 'x'.repeat(200_000) });
    expect(res.status).toBe(413);
    expect(await accounts()).toBe(before);
  });

  test('a name over the 80 characters the profile allows is refused with 422', async () => {
    const res = await signUpWith({ email: 'long@example.com', name: 'x'.repeat(1_000) });
    expect(res.status).toBe(422);
  });

  test('a NUL or another control character is refused with 400', async () => {
    expect((await signUpWith({ email: 'nul@example.com', name: 'Nul\u0000Name' })).status).toBe(400);
    expect((await signUpWith({ email: 'bell@example.com', name: 'Bell\u0007' })).status).toBe(400);
  });
});

describe('API routes', () => {
  test('a 200,000-character name is refused (413), a merely long one with 422', async () => {
    const huge = await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'x'.repeat(200_000), slug: 'huge-team', issue_prefix: 'HG' } });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('payload_too_large');
    const long = await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'x'.repeat(10_000), slug: 'long-team', issue_prefix: 'LG' } });
    expect(long.status).toBe(422);
  });

  test('a body streamed without a length is cut off at the cap', async () => {
    const chunk = new TextEncoder().encode(' '.repeat(16 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 1;
        if (sent > 64) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const req = new Request(`${TEST_APP_URL}/api/workspaces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    const res = await workspaces.POST(req, { params: Promise.resolve({}) });
    expect(res.status).toBe(413);
    // It stopped reading soon after the cap instead of taking the whole megabyte.
    expect(sent).toBeLessThan(10);
  });

  test('NUL and control characters are refused with 400, in bodies and in path parameters', async () => {
    const nul = await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Nul\u0000', slug: 'nul-team', issue_prefix: 'NU' } });
    expect(nul.status).toBe(400);
    expect(nul.body.error.fields).toHaveProperty('name');
    const issue = await call(issues.POST, 'POST', { token: owner.token, params: { id: wsId }, body: { title: 'Escape \u001b[31m', description: '' } });
    expect(issue.status).toBe(400);
    const key = await call(workspaces.POST, 'POST', { token: owner.token, rawBody: '{"name":"Ok","slug":"key-team","issue_prefix":"KY","\\u0000":1}' });
    expect(key.status).toBe(400);
    expect((await call(bySlug.GET, 'GET', { token: owner.token, params: { slug: 'limits\u0000team' } })).status).toBe(400);
  });

  test('text where it belongs is kept: newlines and tabs in a description, long text under its route cap', async () => {
    const res = await call(issues.POST, 'POST', { token: owner.token, params: { id: wsId }, body: { title: 'Multi-line', description: `line one\n\tline two\r\n${'漢'.repeat(49_000)}` } });
    expect(res.status).toBe(201);
  });
});
