import { defineConfig } from '@playwright/test';
import { BROWSER_ENV, resolveBrowser } from './scripts/browser';

// Resolved once: `npm test` passes the path down; run directly, the first load resolves it and
// the test workers, which load this file again, inherit the result.
const resolvedBefore = Boolean(process.env[BROWSER_ENV]);
const browser = await resolveBrowser();
process.env[BROWSER_ENV] = browser.executablePath;
if (!resolvedBefore) process.stdout.write(`End-to-end browser: ${browser.description}\n`);

const port = Number(process.env.E2E_PORT ?? 3210);
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: 'e2e',
  timeout: 90_000,
  expect: { timeout: 15_000 },
  // One worker: the suite shares one app and the machine has two cores.
  workers: 1,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  outputDir: 'test-results/e2e',
  reporter: [['list'], ['json', { outputFile: 'test-results/playwright.json' }]],
  use: {
    baseURL,
    headless: true,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: browser.executablePath,
      env: { ...process.env, ...browser.env },
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: {
    // The launcher loads server modules marked server-only, which resolve under this condition.
    command: 'npx tsx --conditions=react-server scripts/e2e-server.ts',
    url: `${baseURL}/readyz`,
    // The first run includes a production build.
    timeout: 900_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 30_000 },
  },
});
