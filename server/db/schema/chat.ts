import { sql } from 'drizzle-orm';
import { check, foreignKey, index, jsonb, pgTable, smallint, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import type { AgentContext } from '../../contract/attachments';
import { user } from './auth';
import { agent } from './agents';
import { workspace } from './workspaces';
import { chatChannels } from '../../contract/chat';

// The API shares these value lists; the contract is their one home.
export { chatChannels };

export type ChatChannel = (typeof chatChannels)[number];

export const chatSession = pgTable(
  'chat_session',
  {
    id: uuid().primaryKey().defaultRandom(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspace.id, { onDelete: 'cascade' }),
    agentId: uuid().notNull(),
    creatorUserId: text()
      .notNull()
      .references(() => user.id),
    channel: text({ enum: chatChannels }).notNull().default('web'),
    title: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('chat_session_id_workspace_unique').on(t.id, t.workspaceId),
    // A session can only reference an agent of its own workspace.
    foreignKey({ columns: [t.agentId, t.workspaceId], foreignColumns: [agent.id, agent.workspaceId] }).onDelete('cascade'),
    index().on(t.workspaceId, t.updatedAt),
    check('chat_session_channel_valid', sql`${t.channel} IN ('web', 'lark')`),
    check('chat_session_title_len', sql`char_length(${t.title}) BETWEEN 1 AND 200`),
  ],
);

export const chatRoles = ['user', 'assistant'] as const;
export type ChatRole = (typeof chatRoles)[number];

export const chatMessage = pgTable(
  'chat_message',
  {
    id: uuid().primaryKey().defaultRandom(),
    workspaceId: uuid().notNull(),
    sessionId: uuid().notNull(),
    role: text({ enum: chatRoles }).notNull(),
    content: text().notNull(),
    // The member who wrote a user message; null for assistant messages.
    authorUserId: text().references(() => user.id, { onDelete: 'set null' }),
    // A question recalled in Lark: its content is cleared and the chat shows that it was recalled.
    recalledAt: timestamp({ withTimezone: true }),
    // An answer cut short: 'stopped' when the asker pressed Stop.
    endReason: text(),
    // How many attachments the message has: history reads them only for messages that have some.
    attachmentCount: smallint().notNull().default(0),
    // For a question: what the agent was given around it, fetched once before its first run.
    agentContext: jsonb().$type<AgentContext>(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('chat_message_id_workspace_unique').on(t.id, t.workspaceId),
    foreignKey({ columns: [t.sessionId, t.workspaceId], foreignColumns: [chatSession.id, chatSession.workspaceId] }).onDelete(
      'cascade',
    ),
    index().on(t.sessionId, t.createdAt),
    check('chat_message_attachment_count_nonneg', sql`${t.attachmentCount} >= 0`),
    check('chat_message_context_size', sql`${t.agentContext} IS NULL OR octet_length(${t.agentContext}::text) <= 262144`),
    check('chat_message_role_valid', sql`${t.role} IN ('user', 'assistant')`),
    check('chat_message_end_reason_valid', sql`${t.endReason} IS NULL OR ${t.endReason} IN ('stopped')`),
    // Lark accepts texts up to 150 KB; every message it can deliver must fit.
    check('chat_message_content_len', sql`char_length(${t.content}) <= 150000`),
  ],
);
