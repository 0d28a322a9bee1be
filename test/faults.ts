import type { Db } from '@/server/db/client';

/**
 * The database handle, except that the first `select … from(table)` throws the way a connection
 * killed mid-query does. A real Postgres cannot be made to fail one chosen query, hence the wrapper.
 */
export function failingFirstSelectFrom(db: Db, table: unknown): { handle: Db; lookups: () => number } {
  let lookups = 0;
  const handle = new Proxy(db, {
    get(target, prop, receiver) {
      if (prop !== 'select') return Reflect.get(target, prop, receiver);
      return (...args: Parameters<typeof target.select>) => {
        const builder = target.select(...args);
        return new Proxy(builder, {
          get(b, p, r) {
            if (p !== 'from') return Reflect.get(b, p, r);
            return (from: unknown) => {
              if (from === table && lookups++ === 0) throw new Error('terminating connection due to administrator command');
              return b.from(from as Parameters<typeof b.from>[0]);
            };
          },
        });
      };
    },
  });
  return { handle, lookups: () => lookups };
}
