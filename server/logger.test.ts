import { DrizzleQueryError } from 'drizzle-orm/errors';
import { describe, expect, test } from 'vitest';
import { safeError } from './logger';

describe('safeError', () => {
  test('keeps type, message, code and stack but drops query parameters and driver details', () => {
    const driver = Object.assign(new Error('duplicate key value violates unique constraint "user_email_key"'), {
      code: '23505',
      detail: 'Key (email)=(ada@example.com) already exists.',
    });
    const err = new DrizzleQueryError('insert into "user" ("email", "api_key") values ($1, $2)', ['ada@example.com', 'sk-secret-key'], driver);
    const out = safeError(err);
    const text = JSON.stringify(out);
    expect(text).not.toContain('sk-secret-key');
    expect(text).not.toContain('ada@example.com');
    expect(out.message).toContain('Failed query: insert into "user"');
    expect(out.stack).toContain('at ');
    expect(out.cause).toMatchObject({ code: '23505', message: expect.stringContaining('user_email_key') });
  });

  test('non-errors become a plain description', () => {
    expect(safeError('boom')).toEqual({ type: 'string', message: 'boom' });
  });
});
