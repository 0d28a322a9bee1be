// `npm test`: every check CI runs, in order, ending with one summary line.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { BROWSER_ENV, resolveBrowser } from './browser';

type Step = {
  name: string;
  cmd: string;
  args: string[];
  /** Runs first; a throw fails the step without running it. */
  prepare?: () => Promise<void>;
  counts?: () => Promise<{ passed: number; failed: number; skipped: number }>;
};

async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await fs.readFile(file, 'utf8'));
}

const steps: Step[] = [
  { name: 'typecheck', cmd: 'npx', args: ['tsc', '--noEmit'] },
  { name: 'lint', cmd: 'npx', args: ['eslint', '.', '--max-warnings', '0'] },
  // Built once, up front: tests that start the whole product (`npm run demo` stopping on a signal)
  // and the end-to-end server then find it fresh instead of building it themselves.
  { name: 'build', cmd: 'npx', args: ['tsx', '--conditions=react-server', 'scripts/build.ts'] },
  {
    name: 'unit and integration',
    cmd: 'npx',
    args: ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/vitest.json'],
    counts: async () => {
      const r = (await readJson('test-results/vitest.json')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number; numFailedTestSuites: number };
      return { passed: r.numPassedTests, failed: r.numFailedTests + r.numFailedTestSuites, skipped: r.numPendingTests + r.numTodoTests };
    },
  },
  {
    name: 'end to end',
    cmd: 'npx',
    args: ['playwright', 'test'],
    prepare: async () => {
      const browser = await resolveBrowser();
      console.log(`End-to-end browser: ${browser.description}`);
      // The Playwright config (and its workers) take it from here instead of resolving it again.
      process.env[BROWSER_ENV] = browser.executablePath;
    },
    counts: async () => {
      const r = (await readJson('test-results/playwright.json')) as { stats: { expected: number; unexpected: number; flaky: number; skipped: number }; errors?: unknown[] };
      return { passed: r.stats.expected + r.stats.flaky, failed: r.stats.unexpected + (r.errors?.length ?? 0), skipped: r.stats.skipped };
    },
  },
];

function run(step: Step): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(step.cmd, step.args, { stdio: 'inherit', env: process.env });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

let passed = 0;
let failed = 0;
let skipped = 0;
const failures: string[] = [];
await fs.rm('test-results', { recursive: true, force: true });
await fs.mkdir('test-results', { recursive: true });
for (const step of steps) {
  console.log(`\n=== ${step.name} ===`);
  let code: number;
  try {
    await step.prepare?.();
    code = await run(step);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    code = 1;
  }
  let stepFailed = code !== 0;
  if (step.counts) {
    const c = await step.counts().catch(() => null);
    if (c) {
      passed += c.passed;
      failed += c.failed;
      skipped += c.skipped;
      // A report with failures fails the step even if the runner exited 0.
      if (c.failed > 0) stepFailed = true;
    }
    // A runner that crashed before writing its report still counts as a failure.
    if (code !== 0 && (!c || c.failed === 0)) failed += 1;
  } else if (code === 0) {
    passed += 1;
  } else {
    failed += 1;
  }
  if (stepFailed) failures.push(step.name);
}
console.log('');
if (failures.length) console.log(`Failed steps: ${failures.join(', ')}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failures.length ? 1 : 0);
