import { describe, expect, test } from 'vitest';
import { ConfigError, parseEnv } from './env';

const valid = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db' };

describe('parseEnv', () => {
  test('defaults fill in everything optional', () => {
    const e = parseEnv(valid);
    expect(e).toMatchObject({ APP_URL: 'http://localhost:3000', WORKER_CONCURRENCY: 4, LARK_LEASE_TTL_MS: 30000, LARK_LEASE_RENEW_MS: 10000 });
    expect(e.LARK_SECRET_KEY).toBeUndefined();
  });

  test.each([
    [{}, 'DATABASE_URL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ ...valid, APP_URL: 'not a url' }, 'APP_URL'],
    [{ ...valid, WORKER_CONCURRENCY: 'many' }, 'WORKER_CONCURRENCY'],
    [{ ...valid, LARK_SECRET_KEY: Buffer.alloc(16).toString('base64') }, 'LARK_SECRET_KEY'],
    [{ ...valid, LARK_OPEN_BASE_URL: 'ftp://x' }, 'LARK_OPEN_BASE_URL'],
    [{ ...valid, BETTER_AUTH_SECRET: 'short' }, 'BETTER_AUTH_SECRET'],
  ])('a missing or malformed value fails naming it: %j', (source, name) => {
    expect(() => parseEnv(source)).toThrow(ConfigError);
    expect(() => parseEnv(source)).toThrow(new RegExp(`${name}:`));
  });

  test('a Lark key of exactly 32 bytes is accepted', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(parseEnv({ ...valid, LARK_SECRET_KEY: key }).LARK_SECRET_KEY).toBe(key);
  });
});
