import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { user } from './auth';
import { workspace } from './workspaces';
import { issueStatuses, issueOriginTypes } from '../../contract/issues';

// The API shares these value lists; the contract is their one home.
export { issueStatuses, issueOriginTypes };

export type IssueStatus = (typeof issueStatuses)[number];
export type IssueOriginType = (typeof issueOriginTypes)[number];

export const issue = pgTable(
  'issue',
  {
    id: uuid().primaryKey().defaultRandom(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspace.id, { onDelete: 'cascade' }),
    number: integer().notNull(),
    title: text().notNull(),
    description: text().notNull().default(''),
    status: text({ enum: issueStatuses }).notNull().default('todo'),
    originType: text({ enum: issueOriginTypes }).notNull().default('web'),
    creatorUserId: text()
      .notNull()
      .references(() => user.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('issue_workspace_number_unique').on(t.workspaceId, t.number),
    index().on(t.workspaceId, t.createdAt),
    check('issue_number_positive', sql`${t.number} > 0`),
    check('issue_title_len', sql`char_length(${t.title}) BETWEEN 1 AND 300`),
    check('issue_status_valid', sql`${t.status} IN ('backlog', 'todo', 'in_progress', 'done', 'canceled')`),
    check('issue_origin_type_valid', sql`${t.originType} IN ('web', 'lark_chat')`),
  ],
);
