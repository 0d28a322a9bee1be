import { describe, expect, it } from 'vitest';
import { threadExecArgv } from './client';

describe('the ACK thread options', () => {
  it('keeps the server import conditions and profiling, and leaves out what a thread refuses (inspector, V8 flags)', () => {
    const argv = ['--conditions=react-server', '--import', 'tsx', '--expose-gc', '--inspect=127.0.0.1:9229', '--cpu-prof', '--cpu-prof-dir=/tmp/p'];
    expect(threadExecArgv(argv)).toEqual(['--conditions=react-server', '--cpu-prof', '--cpu-prof-dir=/tmp/p']);
  });

  it('adds the server import conditions when the process was started without them (tests)', () => {
    expect(threadExecArgv(['--max-old-space-size=4096'])).toEqual(['--conditions=react-server']);
  });
});
