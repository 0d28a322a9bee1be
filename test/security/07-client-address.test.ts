// Attack: the sign-in rate limit is keyed by the client's address. A client that writes its own
// X-Forwarded-For must not get a fresh bucket per request, and clients behind one proxy must not
// share one bucket. The address comes from the TCP peer and TRUST_PROXY_HOPS only.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as authRoute from '@/app/api/auth/[...all]/route';
import { resetEnvForTests } from '@/server/env';
import { CLIENT_ADDRESS_HEADER, clientAddress, PEER_ADDRESS_HEADER } from '@/server/http/client-address';
import { signUp, TEST_APP_URL, type TestUser } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';

let t: TestDatabase;
let victim: TestUser;

beforeAll(async () => {
  process.env.SIGN_IN_RATE_LIMIT_MAX = '3';
  resetEnvForTests();
  t = await useTestDatabase();
  victim = await signUp('Vic');
});
afterAll(async () => {
  delete process.env.TRUST_PROXY_HOPS;
  resetEnvForTests();
  await t?.drop();
});

function wrongPassword(headers: Record<string, string>) {
  return authRoute.POST(
    new Request(`${TEST_APP_URL}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: TEST_APP_URL, ...headers },
      body: JSON.stringify({ email: victim.email, password: 'not-the-password' }),
    }),
  );
}

async function statuses(count: number, headersFor: (i: number) => Record<string, string>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push((await wrongPassword(headersFor(i))).status);
  return out;
}

describe('with no trusted proxy (TRUST_PROXY_HOPS=0)', () => {
  test('rotating X-Forwarded-For (or our own header) from one peer does not escape the limit', async () => {
    const got = await statuses(5, (i) => ({ [PEER_ADDRESS_HEADER]: '203.0.113.5', 'x-forwarded-for': `198.51.100.${i}`, [CLIENT_ADDRESS_HEADER]: `192.0.2.${i}` }));
    expect(got).toEqual([401, 401, 401, 429, 429]);
  });

  test('another peer keeps its own bucket', async () => {
    expect((await wrongPassword({ [PEER_ADDRESS_HEADER]: '203.0.113.6', 'x-forwarded-for': '203.0.113.5' })).status).toBe(401);
  });
});

describe('behind one trusted proxy (TRUST_PROXY_HOPS=1)', () => {
  beforeAll(() => {
    process.env.TRUST_PROXY_HOPS = '1';
    resetEnvForTests();
  });

  test('the address the proxy appended counts, not what the client prepended', async () => {
    const got = await statuses(5, (i) => ({ [PEER_ADDRESS_HEADER]: '10.0.0.2', 'x-forwarded-for': `198.51.100.${i}, 192.0.2.7` }));
    expect(got).toEqual([401, 401, 401, 429, 429]);
  });

  test('clients behind the same proxy do not share a bucket', async () => {
    // This client wrote a header of its own too; the proxy appended the address it saw.
    expect((await wrongPassword({ [PEER_ADDRESS_HEADER]: '10.0.0.2', 'x-forwarded-for': '203.0.113.77, 192.0.2.8' })).status).toBe(401);
  });
});

describe('clientAddress', () => {
  const h = (peer: string | null, xff?: string) => {
    const headers = new Headers();
    if (peer) headers.set(PEER_ADDRESS_HEADER, peer);
    if (xff) headers.set('x-forwarded-for', xff);
    return headers;
  };

  test('counts hops from the right and ignores what lies left of them', () => {
    expect(clientAddress(h('203.0.113.1', '1.1.1.1'), 0)).toBe('203.0.113.1');
    expect(clientAddress(h('10.0.0.2', '1.1.1.1, 192.0.2.7'), 1)).toBe('192.0.2.7');
    expect(clientAddress(h('10.0.0.3', '1.1.1.1, 192.0.2.7, 10.0.0.2'), 2)).toBe('192.0.2.7');
    // A chain shorter than the configured hops: the leftmost entry there is.
    expect(clientAddress(h('10.0.0.2'), 3)).toBe('10.0.0.2');
  });

  test('strips ports, keeps IPv6, and refuses what is not an address', () => {
    expect(clientAddress(h('10.0.0.2', '192.0.2.7:51234'), 1)).toBe('192.0.2.7');
    expect(clientAddress(h('::ffff:127.0.0.1'), 0)).toBe('::ffff:127.0.0.1');
    expect(clientAddress(h('10.0.0.2', '[2001:db8::1]:443'), 1)).toBe('2001:db8::1');
    expect(clientAddress(h('10.0.0.2', 'evil'), 1)).toBeNull();
  });

  test('without our server in front, Next fills X-Forwarded-For with the socket address', () => {
    expect(clientAddress(h(null, '203.0.113.9'), 0)).toBe('203.0.113.9');
    expect(clientAddress(h(null), 0)).toBeNull();
  });
});
