import { createHash } from 'node:crypto';
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import type { QueryResult, QueryResultRow } from 'pg';
import type { Db, DbOrTx } from './client';

const dialect = new PgDialect({ casing: 'snake_case' });

/**
 * Runs a statement as a named prepared statement of its connection. The pipeline's hot statements
 * are large CTEs whose planning costs several times their execution; prepared once per connection,
 * they are planned once instead of on every message. The name is derived from the text, so each
 * variant of a statement is prepared on its own.
 */
export async function executePrepared<T extends QueryResultRow>(db: DbOrTx, query: SQL): Promise<QueryResult<T>> {
  const client = (db as Db & { $client?: pg.Pool }).$client;
  // Inside a transaction the statement must run on its connection: plainly, as drizzle does.
  if (!client) return (await db.execute<T>(query)) as QueryResult<T>;
  const { sql: text, params } = dialect.sqlToQuery(query);
  let name = names.get(text);
  if (!name) {
    name = `larkspur_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    if (names.size < MAX_NAMES) names.set(text, name);
  }
  return client.query<T>({ name, text, values: params as unknown[] });
}

const names = new Map<string, string>();
// Only a handful of texts are prepared; the bound keeps a mistake from growing the map forever.
const MAX_NAMES = 1000;
