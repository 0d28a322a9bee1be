import { PgTransaction } from 'drizzle-orm/pg-core';
import type { DbOrTx, Tx } from './client';

/**
 * Runs `work` in the caller's transaction when given one, else in a new one, so a verb stays
 * atomic on its own and still commits or rolls back with a caller that composes it (no savepoint).
 */
export function inTransaction<T>(db: DbOrTx, work: (tx: Tx) => Promise<T>): Promise<T> {
  return db instanceof PgTransaction ? work(db) : db.transaction(work);
}
