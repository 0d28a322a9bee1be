import type { Pool } from 'pg';
import type { Db } from '@/server/db/client';

/** Part of the statement that claims agent tasks. */
export const TASK_CLAIM_MARKER = "UPDATE agent_task SET status = 'running'";

/**
 * The database handle, except that the answer to the first `execute` whose statement contains
 * `marker` is lost after the statement committed, the way a connection dropping mid-reply loses
 * it. A real Postgres cannot be made to drop one chosen answer, hence the wrapper.
 */
export function losingFirstExecuteAnswer(db: Db, marker: string): { handle: Db; lost: () => boolean } {
  let lost = false;
  const loseOnce = <R>(text: string, result: R): R => {
    if (!lost && text.includes(marker)) {
      lost = true;
      throw new Error('Connection terminated unexpectedly');
    }
    return result;
  };
  // Statements go out through drizzle's execute, or as prepared statements straight to the pool.
  const client = (db as unknown as { $client: Pool }).$client;
  const clientHandle = new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'query') return Reflect.get(target, prop, receiver);
      return async (config: { text?: string }, ...rest: unknown[]) => {
        const result = await (target.query as (...args: unknown[]) => Promise<unknown>)(config, ...rest);
        return loseOnce(typeof config === 'string' ? config : (config.text ?? ''), result);
      };
    },
  });
  const handle = new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === '$client') return clientHandle;
      if (prop !== 'execute') return Reflect.get(target, prop, receiver);
      return async (query: Parameters<typeof target.execute>[0]) => loseOnce(JSON.stringify(query), await target.execute(query));
    },
  });
  return { handle, lost: () => lost };
}

/**
 * Makes Postgres itself refuse outbox rows of one kind (a trigger raising an error), so the write
 * that carries one fails inside its transaction as a real database failure would. Returns the undo.
 */
export async function failOutboxInserts(pool: Pool, kind: string): Promise<() => Promise<void>> {
  const name = `fail_outbox_${kind.replace(/\W/g, '_')}`;
  await pool.query(`CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`);
  await pool.query(`CREATE TRIGGER ${name} BEFORE INSERT ON lark_outbox FOR EACH ROW WHEN (NEW.kind = '${kind}') EXECUTE FUNCTION ${name}()`);
  return async () => {
    await pool.query(`DROP TRIGGER IF EXISTS ${name} ON lark_outbox`);
    await pool.query(`DROP FUNCTION IF EXISTS ${name}()`);
  };
}
