import path from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      '@': path.resolve(import.meta.dirname),
      // Tests load server modules in plain Node, where the `server-only` marker throws (it is empty
      // only under the react-server condition), so they get the empty module directly.
      'server-only': path.resolve(import.meta.dirname, 'node_modules/server-only/empty.js'),
    },
  },
  test: {
    include: ['{server,worker,simulator,scripts,components,app,test,locales,i18n}/**/*.test.{ts,tsx}'],
    globalSetup: ['test/global-setup.ts'],
    environment: 'node',
    testTimeout: 20000,
    hookTimeout: 60000,
    // Two cores: a handful of files at once keeps Postgres and the event loops responsive.
    maxWorkers: 3,
    // SIGN_UP=open: most files sign up several strangers; the invite policy has its own tests.
    env: { BETTER_AUTH_SECRET: 'test-secret-test-secret-test-secret-0123', LOG_LEVEL: 'silent', SIGN_UP: 'open' },
  },
});
