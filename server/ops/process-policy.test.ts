import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect, test } from 'vitest';

/** Runs a small program under the policy in a real process and reports how it ended. */
function runUnderPolicy(body: string): Promise<{ code: number | null; output: string }> {
  const policy = path.resolve(import.meta.dirname, 'process-policy.ts');
  const program = `
    import pino from 'pino';
    import { installProcessErrorPolicy } from ${JSON.stringify(policy)};
    installProcessErrorPolicy(pino());
    ${body}
  `;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

test('an unhandled rejection is logged with its stack and the process keeps serving', async () => {
  const { code, output } = await runUnderPolicy(`
    void Promise.reject(new Error('one piece of work failed'));
    setTimeout(() => { console.log('still serving'); process.exit(0); }, 200);
  `);
  expect(code).toBe(0);
  expect(output).toContain('unhandled promise rejection');
  expect(output).toContain('one piece of work failed');
  expect(output).toContain('still serving');
});

test('an uncaught exception is logged and ends the process with a failure code, for the supervisor to restart', async () => {
  const { code, output } = await runUnderPolicy(`setTimeout(() => { throw new Error('state is broken'); }, 10);`);
  expect(code).toBe(1);
  expect(output).toContain('uncaught exception');
  expect(output).toContain('state is broken');
});
