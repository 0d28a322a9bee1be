import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { user } from '@/server/db/schema';
import { handleAuthRequest } from '@/server/http/auth-request';
import { PEER_ADDRESS_HEADER } from '@/server/http/client-address';
import { authRequest, signUp, TEST_APP_URL, TEST_PASSWORD } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';

let t: TestDatabase;
beforeAll(async () => {
  t = await useTestDatabase();
});
afterAll(async () => t?.drop());

const codeOf = async (res: Response) => ((await res.json()) as { code: string }).code;

describe('password rules', () => {
  test('sign-up refuses short, overlong and common passwords with their own codes, and creates nothing', async () => {
    const cases: [string, string][] = [
      ['short', 'PASSWORD_TOO_SHORT'],
      ['x'.repeat(129), 'PASSWORD_TOO_LONG'],
      ['password1', 'PASSWORD_TOO_COMMON'],
      ['Password123', 'PASSWORD_TOO_COMMON'],
      ['qwertyuiop', 'PASSWORD_TOO_COMMON'],
    ];
    let n = 0;
    for (const [password, code] of cases) {
      n += 1;
      const email = `weak-${n}@example.com`;
      const res = await authRequest('/sign-up/email', { name: 'Weak', email, password }, `10.6.0.${n}`);
      expect(res.status, password).toBe(400);
      expect(await codeOf(res)).toBe(code);
      expect(await t.db.select().from(user).where(eq(user.email, email))).toHaveLength(0);
    }
  });

  test('a password change is held to the same list', async () => {
    const user = await signUp('Changer');
    const change = (newPassword: string) =>
      handleAuthRequest(
        new Request(`${TEST_APP_URL}/api/auth/change-password`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            origin: TEST_APP_URL,
            authorization: `Bearer ${user.token}`,
            [PEER_ADDRESS_HEADER]: '10.6.2.1',
          },
          body: JSON.stringify({ currentPassword: TEST_PASSWORD, newPassword }),
        }),
      );
    const weak = await change('iloveyou1');
    expect(weak.status).toBe(400);
    expect(await codeOf(weak)).toBe('PASSWORD_TOO_COMMON');
    expect((await change('a-far-less-common-phrase')).status).toBe(200);
  });
});
