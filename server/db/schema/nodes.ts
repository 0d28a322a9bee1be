import { sql } from 'drizzle-orm';
import { check, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * One row per worker identity (NODE_ID) and the boot that holds it. Lease tokens and task claims are
 * named after the node, so two live processes must never share one: a new boot takes the row only
 * once the previous boot's heartbeat has stopped.
 */
export const workerNode = pgTable(
  'worker_node',
  {
    nodeId: text().primaryKey(),
    bootId: uuid().notNull(),
    startedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    heartbeatAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('worker_node_id_len', sql`char_length(${t.nodeId}) BETWEEN 1 AND 200`)],
);
