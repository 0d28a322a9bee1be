import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { supervise } from './supervise';

test('a child that crashes is started again; a final exit ends supervision', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'larkspur-supervise-'));
  const counter = path.join(dir, 'starts');
  // Crashes on its first two starts, then exits with the "final" code 2.
  const script = `const fs=require('fs');const f=${JSON.stringify(counter)};let n=0;try{n=+fs.readFileSync(f,'utf8')}catch{};fs.writeFileSync(f,String(n+1));process.exit(n<2?1:2);`;
  const lines: string[] = [];
  const supervised = supervise({
    name: 'worker',
    start: () => spawn(process.execPath, ['-e', script], { stdio: 'ignore' }),
    log: (line) => lines.push(line),
    isFinal: (exit) => exit.code === 2,
    backoffMinMs: 20,
    backoffMaxMs: 50,
  });
  const ended = await supervised.ended;
  expect(ended).toMatchObject({ name: 'worker', code: 2 });
  expect(supervised.restarts()).toBe(2);
  expect(await fs.readFile(counter, 'utf8')).toBe('3');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/worker exited unexpectedly \(code 1\); restarting/);
  await fs.rm(dir, { recursive: true, force: true });
});

test('after release, an exit is not restarted', async () => {
  const supervised = supervise({ name: 'worker', start: () => spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' }), log: () => {} });
  supervised.release();
  supervised.current().kill('SIGTERM');
  expect(await supervised.ended).toMatchObject({ signal: 'SIGTERM' });
  expect(supervised.restarts()).toBe(0);
});
