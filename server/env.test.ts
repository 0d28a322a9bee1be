import { describe, expect, test } from 'vitest';
import { ConfigError, parseEnv, SHUTDOWN_MARGIN_MS } from './env';

const valid = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db' };

describe('parseEnv', () => {
  test('defaults fill in everything optional', () => {
    const e = parseEnv(valid);
    expect(e).toMatchObject({ APP_URL: 'http://localhost:3000', WORKER_CONCURRENCY: 1000, WORKER_DB_POOL_SIZE: 20, LARK_LEASE_TTL_MS: 8000, LARK_LEASE_RENEW_MS: 2000, LARK_HUB_SWEEP_MS: 5000 });
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

  test('the defaults satisfy every cross-check, with room for the lease release before the forced exit', () => {
    const e = parseEnv(valid);
    expect(e.LARK_LEASE_RENEW_MS * 2).toBeLessThanOrEqual(e.LARK_LEASE_TTL_MS);
    expect(e.LARK_BACKOFF_MIN_MS).toBeLessThanOrEqual(e.LARK_BACKOFF_MAX_MS);
    expect(SHUTDOWN_MARGIN_MS).toBeGreaterThan(0);
    expect(e.LARK_HUB_SHUTDOWN_TIMEOUT_MS + e.LARK_LEASE_RELEASE_TIMEOUT_MS + SHUTDOWN_MARGIN_MS).toBeLessThanOrEqual(e.WORKER_SHUTDOWN_TIMEOUT_MS);
  });

  test.each([
    [{ LARK_LEASE_RENEW_MS: '30000' }, 'LARK_LEASE_RENEW_MS', /LARK_LEASE_TTL_MS/],
    [{ LARK_LEASE_RENEW_MS: '40000' }, 'LARK_LEASE_RENEW_MS', /LARK_LEASE_TTL_MS/],
    [{ LARK_LEASE_TTL_MS: '5000', LARK_LEASE_RENEW_MS: '3000' }, 'LARK_LEASE_RENEW_MS', /half of LARK_LEASE_TTL_MS \(5000\)/],
    [{ LARK_BACKOFF_MIN_MS: '5000', LARK_BACKOFF_MAX_MS: '1000' }, 'LARK_BACKOFF_MIN_MS', /LARK_BACKOFF_MAX_MS/],
    [{ WORKER_SHUTDOWN_TIMEOUT_MS: '10000' }, 'WORKER_SHUTDOWN_TIMEOUT_MS', /LARK_HUB_SHUTDOWN_TIMEOUT_MS.*LARK_LEASE_RELEASE_TIMEOUT_MS/],
    [{ LARK_HUB_SHUTDOWN_TIMEOUT_MS: '10000', LARK_LEASE_RELEASE_TIMEOUT_MS: '5000' }, 'WORKER_SHUTDOWN_TIMEOUT_MS', /LARK_HUB_SHUTDOWN_TIMEOUT_MS \(10000\)/],
  ])('settings that conflict with each other are refused, naming the variable: %j', (overrides, name, mentions) => {
    const parse = () => parseEnv({ ...valid, ...overrides });
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(new RegExp(`\\n  ${name}: ${name} `));
    expect(parse).toThrow(mentions);
  });

  test('settings that respect each other are accepted', () => {
    const e = parseEnv({
      ...valid,
      LARK_LEASE_TTL_MS: '5000',
      LARK_LEASE_RENEW_MS: '2500',
      LARK_BACKOFF_MIN_MS: '2000',
      LARK_BACKOFF_MAX_MS: '2000',
      WORKER_SHUTDOWN_TIMEOUT_MS: '30000',
      LARK_HUB_SHUTDOWN_TIMEOUT_MS: '20000',
      LARK_LEASE_RELEASE_TIMEOUT_MS: '8000',
    });
    expect(e.LARK_LEASE_RENEW_MS).toBe(2500);
  });
});
