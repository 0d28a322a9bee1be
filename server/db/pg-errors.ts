// node-postgres errors carry the SQLSTATE in `code` and the violated constraint's name.
type PgError = { code?: string; constraint?: string; cause?: unknown };

function pgError(err: unknown): PgError | undefined {
  let cur: unknown = err;
  for (let depth = 0; cur && depth < 5; depth++) {
    const e = cur as PgError;
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e;
    cur = e.cause;
  }
  return undefined;
}

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = pgError(err);
  return e?.code === '23505' && (!constraint || e.constraint === constraint);
}

export function isForeignKeyViolation(err: unknown, constraint?: string): boolean {
  const e = pgError(err);
  return e?.code === '23503' && (!constraint || e.constraint === constraint);
}

/** A deadlock Postgres broke, a serialization failure or a NOWAIT lock refusal: the transaction lost a race. */
export function isLockConflict(err: unknown): boolean {
  const code = pgError(err)?.code;
  return code === '40P01' || code === '40001' || code === '55P03';
}
