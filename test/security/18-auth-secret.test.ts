// Attack: sessions signed with better-auth's public default secret can be forged by anyone who has
// read its source. Without BETTER_AUTH_SECRET the web refuses to start and auth refuses to run,
// in every environment; tests set one explicitly (vitest.config.ts).
import { afterEach, beforeAll, afterAll, describe, expect, test } from 'vitest';
import { auth } from '@/server/auth/auth';
import { ConfigError, resetEnvForTests } from '@/server/env';
import { useTestDatabase, type TestDatabase } from '../db';

const configured = process.env.BETTER_AUTH_SECRET;
const forgetAuth = () => {
  (globalThis as { larkspurAuth?: unknown }).larkspurAuth = undefined;
  resetEnvForTests();
};

let t: TestDatabase;
beforeAll(async () => {
  t = await useTestDatabase();
});
afterAll(async () => t?.drop());
afterEach(() => {
  process.env.BETTER_AUTH_SECRET = configured;
  delete process.env.NEXT_RUNTIME;
  forgetAuth();
});

describe('BETTER_AUTH_SECRET', () => {
  for (const nodeEnv of ['development', 'test', 'production']) {
    test(`auth refuses to run without it (NODE_ENV=${nodeEnv})`, () => {
      const previous = process.env.NODE_ENV;
      delete process.env.BETTER_AUTH_SECRET;
      (process.env as Record<string, string>).NODE_ENV = nodeEnv;
      forgetAuth();
      try {
        expect(() => auth()).toThrow(ConfigError);
        expect(() => auth()).toThrow(/BETTER_AUTH_SECRET/);
      } finally {
        (process.env as Record<string, string | undefined>).NODE_ENV = previous;
      }
    });
  }

  test('the web process fails at start without it', async () => {
    delete process.env.BETTER_AUTH_SECRET;
    process.env.NEXT_RUNTIME = 'nodejs';
    forgetAuth();
    const { register } = await import('@/instrumentation');
    await expect(register()).rejects.toThrow(/BETTER_AUTH_SECRET/);
  });

  test('with it set, auth runs', () => {
    forgetAuth();
    expect(() => auth()).not.toThrow();
  });
});
