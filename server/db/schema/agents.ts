import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { user } from './auth';
import { workspace } from './workspaces';

export const runtimeKinds = ['echo', 'openai'] as const;
export type RuntimeKind = (typeof runtimeKinds)[number];

export type OpenAiRuntimeConfig = {
  baseUrl: string;
  model: string;
  stream: boolean;
  /** The model API key sealed with the server's secret box, bound to the base URL's origin. */
  apiKeyCiphertext?: string;
  /** A key stored in plaintext by earlier versions; the worker seals it at start. */
  apiKey?: string;
};

/** The echo runtime's settings: how long it waits before its first word and between words, to stand in for a model. */
export type EchoRuntimeConfig = { delayMs?: number; wordDelayMs?: number };

export const agent = pgTable(
  'agent',
  {
    id: uuid().primaryKey().defaultRandom(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspace.id, { onDelete: 'cascade' }),
    ownerUserId: text()
      .notNull()
      .references(() => user.id),
    name: text().notNull(),
    avatarColor: text().notNull(),
    // null runtime = the agent is offline; messages to it get an "offline" outcome.
    runtimeKind: text({ enum: runtimeKinds }),
    runtimeConfig: jsonb().$type<OpenAiRuntimeConfig | EchoRuntimeConfig | Record<string, never>>().notNull().default({}),
    archivedAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('agent_id_workspace_unique').on(t.id, t.workspaceId),
    index().on(t.workspaceId),
    check('agent_name_len', sql`char_length(${t.name}) BETWEEN 1 AND 80`),
    check('agent_avatar_color_hex', sql`${t.avatarColor} ~ '^#[0-9a-fA-F]{6}$'`),
    check('agent_runtime_kind_valid', sql`${t.runtimeKind} IS NULL OR ${t.runtimeKind} IN ('echo', 'openai')`),
  ],
);
