import { eq, sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { agentTask } from './schema';
import { toQuery, writeDirectly } from './prepared';

const dialect = new PgDialect({ casing: 'snake_case' });
/** Drizzle's text and parameters (its typings are not passed to node-postgres). */
function drizzleQuery(query: SQL): { sql: string; params: unknown[] } {
  const { sql: text, params } = dialect.sqlToQuery(query);
  return { sql: text, params };
}

/** A statement tree of the kinds the hot statements are made of, chosen by a seeded generator. */
function randomStatement(next: () => number, depth = 0): SQL {
  const parts: SQL[] = [];
  const count = 1 + Math.floor(next() * 4);
  for (let i = 0; i < count; i++) {
    const pick = Math.floor(next() * 12);
    const n = Math.floor(next() * 1000);
    if (pick === 0 && depth < 4) parts.push(sql`(${randomStatement(next, depth + 1)})`);
    else if (pick === 1) parts.push(sql`a = ${`text ${n} 'quoted' ü`}`);
    else if (pick === 2) parts.push(sql`b = ${n}`);
    else if (pick === 3) parts.push(sql`c IS ${null}`);
    else if (pick === 4) parts.push(sql`d = ${sql.param([`x${n}`, 'y'])}::text[]`);
    else if (pick === 5) parts.push(sql`e IN ${[n, n + 1, `z${n}`]}`);
    else if (pick === 6) parts.push(sql`f = ${new Date(1_700_000_000_000 + n)}`);
    else if (pick === 7) parts.push(sql`g = ${{ n, nested: { list: [n] } }}::jsonb`);
    else if (pick === 8) parts.push(sql.raw(`h_${n}`));
    else if (pick === 9) parts.push(sql.join([sql`i${n}`, sql`${n % 2 === 0}`, sql`j`], sql`, `));
    else if (pick === 10) parts.push(sql`k = ${Buffer.from([n % 256, 1, 2])}${undefined}`);
    else parts.push(sql`l = ${BigInt(n)}`);
  }
  return sql.join(parts, sql` AND `);
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('writing a statement without drizzle', () => {
  it('writes exactly the text and parameters drizzle writes, for 500 generated statements', () => {
    const next = seeded(42);
    for (let i = 0; i < 500; i++) {
      const statement = randomStatement(next);
      const direct = writeDirectly(statement);
      expect(direct, `statement ${i}`).not.toBeNull();
      expect(direct).toEqual(drizzleQuery(statement));
    }
  });

  it('numbers parameters across nested statements in order', () => {
    const inner = sql`x = ${1} AND y = ${sql`${'two'}`}`;
    expect(writeDirectly(sql`WITH a AS (${inner}) SELECT ${3}, ${[4, 5]}`)).toEqual({
      sql: 'WITH a AS (x = $1 AND y = $2) SELECT $3, ($4, $5)',
      params: [1, 'two', 3, 4, 5],
    });
  });

  it('leaves columns, tables, placeholders and inlined parameters to drizzle, which writes them as before', () => {
    const withColumn = sql`SELECT 1 FROM ${agentTask} WHERE ${eq(agentTask.id, 'a')}`;
    const withPlaceholder = sql`SELECT ${sql.placeholder('id')}`;
    const inlined = sql`SELECT ${'x'}`.inlineParams();
    const wrapper = { getSQL: () => sql`1` };
    const withWrapper = sql`SELECT ${wrapper}`;
    for (const statement of [withColumn, withPlaceholder, inlined, withWrapper]) {
      expect(writeDirectly(statement)).toBeNull();
      expect(toQuery(statement)).toEqual(dialect.sqlToQuery(statement));
    }
  });
});
