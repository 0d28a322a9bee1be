import { sql } from 'drizzle-orm';
import { check, foreignKey, index, integer, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { user } from './auth';
import { agent } from './agents';
import { chatSession } from './chat';
import { larkInstallation } from './lark';
import { member, workspace } from './workspaces';
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
    // At most one assignee: a member of the workspace or one of its agents.
    assigneeUserId: text(),
    assigneeAgentId: uuid(),
    // Where a `lark_chat` issue was asked for: the chat's session and the Lark chat itself, so the
    // issue links back to the conversation even after the session is gone.
    originChatSessionId: uuid(),
    originLarkInstallationId: uuid(),
    originLarkChatId: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('issue_workspace_number_unique').on(t.workspaceId, t.number),
    index().on(t.workspaceId, t.createdAt),
    index('issue_assignee_user_idx').on(t.workspaceId, t.assigneeUserId).where(sql`${t.assigneeUserId} IS NOT NULL`),
    index('issue_assignee_agent_idx').on(t.assigneeAgentId).where(sql`${t.assigneeAgentId} IS NOT NULL`),
    index('issue_origin_chat_session_idx').on(t.originChatSessionId).where(sql`${t.originChatSessionId} IS NOT NULL`),
    index('issue_origin_lark_installation_idx').on(t.originLarkInstallationId).where(sql`${t.originLarkInstallationId} IS NOT NULL`),
    // The composite keys keep every reference inside the issue's workspace. The migration narrows
    // ON DELETE SET NULL to the referencing column alone (PostgreSQL 15+), which drizzle cannot
    // express: nulling workspace_id as well would break NOT NULL and so block the delete.
    foreignKey({
      name: 'issue_assignee_member_fk',
      columns: [t.workspaceId, t.assigneeUserId],
      foreignColumns: [member.workspaceId, member.userId],
    }).onDelete('set null'),
    foreignKey({
      name: 'issue_assignee_agent_fk',
      columns: [t.assigneeAgentId, t.workspaceId],
      foreignColumns: [agent.id, agent.workspaceId],
    }).onDelete('set null'),
    foreignKey({
      name: 'issue_origin_chat_session_fk',
      columns: [t.originChatSessionId, t.workspaceId],
      foreignColumns: [chatSession.id, chatSession.workspaceId],
    }).onDelete('set null'),
    foreignKey({
      name: 'issue_origin_lark_installation_fk',
      columns: [t.originLarkInstallationId, t.workspaceId],
      foreignColumns: [larkInstallation.id, larkInstallation.workspaceId],
    }).onDelete('set null'),
    check('issue_number_positive', sql`${t.number} > 0`),
    check('issue_title_len', sql`char_length(${t.title}) BETWEEN 1 AND 300`),
    check('issue_status_valid', sql`${t.status} IN ('backlog', 'todo', 'in_progress', 'done', 'canceled')`),
    check('issue_origin_type_valid', sql`${t.originType} IN ('web', 'lark_chat')`),
    check('issue_one_assignee', sql`${t.assigneeUserId} IS NULL OR ${t.assigneeAgentId} IS NULL`),
    check(
      'issue_lark_origin_only_for_lark',
      sql`${t.originType} = 'lark_chat' OR (${t.originChatSessionId} IS NULL AND ${t.originLarkInstallationId} IS NULL AND ${t.originLarkChatId} IS NULL)`,
    ),
    // An installation is recorded only with its chat. The chat id outlives a deleted installation
    // (SET NULL may only clear key columns), but without the brand it is not shown.
    check('issue_lark_chat_with_installation', sql`${t.originLarkInstallationId} IS NULL OR ${t.originLarkChatId} IS NOT NULL`),
    check('issue_lark_chat_id_len', sql`char_length(${t.originLarkChatId}) BETWEEN 1 AND 200`),
  ],
);
