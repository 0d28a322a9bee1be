import { createHash } from 'node:crypto';
import { Param, SQL, StringChunk } from 'drizzle-orm';
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
  const { sql: text, params } = toQuery(query);
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

/**
 * The statement's text and parameters, exactly as drizzle's pg dialect writes them. The hot
 * statements are raw `sql` templates of text, nested templates and values; those are written here
 * directly, which costs a fraction of drizzle's general walk (it tests every chunk against a dozen
 * entity kinds). Anything else (a column, a table, an inlined or placeholder parameter) is left to drizzle.
 */
export function toQuery(query: SQL): { sql: string; params: unknown[] } {
  return writeDirectly(query) ?? dialect.sqlToQuery(query);
}

/** The text and parameters when the statement is made only of what this module writes itself; null otherwise. */
export function writeDirectly(query: SQL): { sql: string; params: unknown[] } | null {
  const out: Written = { text: '', params: [] };
  return writeChunks(query, out) ? { sql: out.text, params: out.params } : null;
}

type Written = { text: string; params: unknown[] };

function writeChunks(query: SQL, out: Written): boolean {
  if ((query as unknown as { shouldInlineParams: boolean }).shouldInlineParams) return false;
  for (const chunk of query.queryChunks as unknown[]) {
    if (!writeChunk(chunk, out)) return false;
  }
  return true;
}

function writeChunk(chunk: unknown, out: Written): boolean {
  if (chunk === undefined) return true;
  if (chunk === null || typeof chunk !== 'object') return writeParam(chunk, out);
  const kind = chunk.constructor;
  if (kind === StringChunk) {
    out.text += (chunk as StringChunk).value.join('');
    return true;
  }
  if (kind === SQL) return writeChunks(chunk as SQL, out);
  if (kind === Param) {
    const { value, encoder } = chunk as Param;
    if (value !== null && typeof value === 'object' && !isPlainValue(value)) return false;
    const mapped = value === null ? null : encoder.mapToDriverValue(value);
    if (mapped !== null && typeof mapped === 'object' && !isPlainValue(mapped)) return false;
    return writeParam(mapped, out);
  }
  if (Array.isArray(chunk)) {
    // A list of values becomes a parenthesised, comma-separated list, as drizzle writes it.
    out.text += '(';
    for (let i = 0; i < chunk.length; i++) {
      if (i > 0) out.text += ', ';
      if (!writeChunk(chunk[i], out)) return false;
    }
    out.text += ')';
    return true;
  }
  return isPlainValue(chunk) ? writeParam(chunk, out) : false;
}

/** Values drizzle passes to the driver as they are: nothing it would treat as SQL of its own. */
function isPlainValue(value: object): boolean {
  if (typeof (value as { getSQL?: unknown }).getSQL === 'function') return false;
  const kind = value.constructor;
  return kind === Object || kind === undefined || kind === Date || kind === Array || Buffer.isBuffer(value) || ArrayBuffer.isView(value);
}

function writeParam(value: unknown, out: Written): boolean {
  out.params.push(value);
  out.text += `$${out.params.length}`;
  return true;
}
