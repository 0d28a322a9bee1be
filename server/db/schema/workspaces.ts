import { sql } from 'drizzle-orm';
import { check, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { user } from './auth';
import { memberRoles } from '../../contract/members';

// The API shares these value lists; the contract is their one home.
export { memberRoles };

export const workspace = pgTable(
  'workspace',
  {
    id: uuid().primaryKey().defaultRandom(),
    name: text().notNull(),
    slug: text().notNull().unique(),
    issuePrefix: text().notNull(),
    // Last issue number handed out; incremented under the row lock so concurrent creates never collide.
    issueCounter: integer().notNull().default(0),
    // The language the Lark bot speaks: 'auto' follows the bot's brand (Chinese on Feishu, English on Lark).
    larkLocale: text().notNull().default('auto'),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('workspace_name_len', sql`char_length(${t.name}) BETWEEN 1 AND 80`),
    check('workspace_slug_format', sql`${t.slug} ~ '^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$'`),
    check('workspace_issue_prefix_format', sql`${t.issuePrefix} ~ '^[A-Z][A-Z0-9]{1,9}$'`),
    check('workspace_issue_counter_nonneg', sql`${t.issueCounter} >= 0`),
    check('workspace_lark_locale_valid', sql`${t.larkLocale} IN ('auto', 'en', 'zh-Hans', 'ja', 'ko')`),
  ],
);

export type MemberRole = (typeof memberRoles)[number];

export const member = pgTable(
  'member',
  {
    workspaceId: uuid()
      .notNull()
      .references(() => workspace.id, { onDelete: 'cascade' }),
    userId: text()
      .notNull()
      .references(() => user.id, { onDelete: 'cascade' }),
    role: text({ enum: memberRoles }).notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  // The composite key is also the FK target for everything that hangs off a membership.
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.userId] }),
    check('member_role_valid', sql`${t.role} IN ('owner', 'admin', 'member')`),
  ],
);
