import path from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { alias: { '@': path.resolve(import.meta.dirname) } },
  test: {
    include: ['{server,worker,simulator,scripts,components,app,test,locales,i18n}/**/*.test.{ts,tsx}'],
    globalSetup: ['test/global-setup.ts'],
    environment: 'node',
    testTimeout: 20000,
    hookTimeout: 60000,
    // Two cores: a handful of files at once keeps Postgres and the event loops responsive.
    maxWorkers: 3,
    env: { BETTER_AUTH_SECRET: 'test-secret-test-secret-test-secret-0123', LOG_LEVEL: 'silent' },
  },
});
