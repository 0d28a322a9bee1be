// Attack: during a database fault, driver errors carry the statement's parameters (session tokens,
// keys, message text); they must reach neither the logs (ours or better-auth's) nor the client.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import * as me from '@/app/api/me/route';
import { createLogger, setLogger } from '@/server/logger';
import { call, signUp, type TestUser } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';

let t: TestDatabase;
let user: TestUser;
const lines: string[] = [];
let restoreLogger: () => void;

function written(): string {
  const consoleLines = [console.error, console.warn, console.log, console.info, console.debug].flatMap((fn) =>
    vi.isMockFunction(fn) ? fn.mock.calls.map((args) => args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack}` : typeof a === 'string' ? a : JSON.stringify(a))).join(' ')) : [],
  );
  return [...lines, ...consoleLines].join('\n');
}

beforeAll(async () => {
  t = await useTestDatabase();
  restoreLogger = setLogger(
    createLogger(
      new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
      'trace',
    ),
  );
  for (const level of ['error', 'warn', 'log', 'info', 'debug'] as const) vi.spyOn(console, level).mockImplementation(() => undefined);
  user = await signUp('Logan');
});

afterAll(async () => {
  vi.restoreAllMocks();
  restoreLogger?.();
  await t?.drop();
});

describe('log redaction', () => {
  test('a failing session lookup logs no session token and answers a reference, not driver text', async () => {
    const rawToken = user.token.split('.')[0]!;
    lines.length = 0;
    // The session table is gone for a moment: every lookup fails with the token as a query parameter.
    await t.pool.query('ALTER TABLE "session" RENAME TO "session_away"');
    let res;
    try {
      res = await call(me.GET, 'GET', { token: user.token });
    } finally {
      await t.pool.query('ALTER TABLE "session_away" RENAME TO "session"');
    }
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('internal');
    expect(res.body.error.reference).toMatch(/^[0-9a-f-]{36}$/);
    const answer = JSON.stringify(res.body);
    expect(answer).not.toMatch(/session_away|select|Failed query|relation/i);
    expect(answer).not.toContain(rawToken);

    const log = written();
    // The line that explains the failure is there, under the reference the client was given...
    expect(log).toContain(res.body.error.reference);
    expect(log).toMatch(/Failed query|relation/);
    // ...and neither the token nor its signed form is anywhere in what was written.
    expect(log).not.toContain(rawToken);
    expect(log).not.toContain(user.token);
  });

  test('URLs in errors lose their query, credentials and bearer tokens', () => {
    lines.length = 0;
    const err = new Error('request to https://bot:hunter2@api.example.com/v1/chat?key=sk-live-123 failed: Authorization: Bearer sk-live-456');
    err.cause = new Error('GET /api/lark/bind?token=bind-secret-789 answered 500');
    createLogger(
      new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
      'trace',
    ).error({ err, apiKey: 'sk-live-000', config: { api_key: 'sk-live-111' } }, 'upstream failed');
    const log = lines.join('');
    expect(log).toContain('https://api.example.com/v1/chat');
    for (const secret of ['hunter2', 'sk-live-123', 'sk-live-456', 'bind-secret-789', 'sk-live-000', 'sk-live-111']) expect(log).not.toContain(secret);
  });
});
