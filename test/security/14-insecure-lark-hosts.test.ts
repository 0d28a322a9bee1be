import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError, parseEnv } from '@/server/env';

// A production deployment must not talk to Lark over plain http (app secrets and tenant tokens
// would cross the network in clear) just because an override says so; and the simulator, whose
// control API has no authentication, must not listen beyond this machine by accident.

const base = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/larkspur' };

function configError(source: Record<string, string>): string {
  try {
    parseEnv(source);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a configuration error');
}

describe('Lark host overrides', () => {
  test.each(['LARK_OPEN_BASE_URL', 'LARK_ACCOUNTS_BASE_URL'])('http:// in %s is refused in production, naming the variable', (name) => {
    const message = configError({ ...base, NODE_ENV: 'production', [name]: 'http://lark-proxy.internal/{region}' });
    expect(message).toContain(name);
    expect(message).toContain('https://');
    expect(message).toContain('LARK_ALLOW_INSECURE_HOSTS');
  });

  test('https:// is fine in production; http:// only with LARK_ALLOW_INSECURE_HOSTS=true or outside production', () => {
    expect(parseEnv({ ...base, NODE_ENV: 'production', LARK_OPEN_BASE_URL: 'https://lark-proxy.example/{region}' }).LARK_OPEN_BASE_URL).toBe('https://lark-proxy.example/{region}');
    const allowed = parseEnv({ ...base, NODE_ENV: 'production', LARK_OPEN_BASE_URL: 'http://127.0.0.1:4010/{region}', LARK_ALLOW_INSECURE_HOSTS: 'true' });
    expect(allowed.LARK_OPEN_BASE_URL).toBe('http://127.0.0.1:4010/{region}');
    expect(parseEnv({ ...base, NODE_ENV: 'development', LARK_ACCOUNTS_BASE_URL: 'http://127.0.0.1:4010/{region}' }).LARK_ACCOUNTS_BASE_URL).toBe('http://127.0.0.1:4010/{region}');
    expect(configError({ ...base, NODE_ENV: 'production', LARK_OPEN_BASE_URL: 'http://127.0.0.1:4010', LARK_ALLOW_INSECURE_HOSTS: 'false' })).toContain('LARK_OPEN_BASE_URL');
  });
});

type Run = { code: number | null; output: string };

/** Runs `npm run sim` the way a person would, stopping it as soon as it says it is listening. */
function runSimulator(env: Record<string, string>, args: string[] = []): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'simulator/main.ts', ...args], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      // Next's types make NODE_ENV a required key of ProcessEnv; the simulator does not read it.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SIM_PORT: '0', ...env } as unknown as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('listening on')) child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('simulator host', () => {
  test('refuses a non-loopback address without --allow-remote, saying why', async () => {
    const run = await runSimulator({ SIM_HOST: '0.0.0.0' });
    expect(run.output).not.toContain('listening on');
    expect(run.code).toBe(2);
    expect(run.output).toContain('--allow-remote');
    expect(run.output).toContain('no authentication');
  }, 40_000);

  test('starts on a non-loopback address with --allow-remote, and on loopback without it', async () => {
    expect((await runSimulator({ SIM_HOST: '0.0.0.0' }, ['--allow-remote'])).output).toContain('listening on');
    expect((await runSimulator({ SIM_HOST: '127.0.0.1' })).output).toContain('listening on');
  }, 60_000);
});
