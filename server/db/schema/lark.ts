import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { user } from './auth';
import { agent } from './agents';
import { chatMessage, chatSession } from './chat';
import { agentTask } from './tasks';
import { member, workspace } from './workspaces';
import { larkRegions, larkConnectionStates as connectionStates, larkDropReasons, larkInstallErrorReasons as registrationErrorReasons } from '../../contract/lark';

// The API shares these value lists; the contract is their one home.
export { larkRegions, connectionStates, larkDropReasons, registrationErrorReasons };

export type LarkRegion = (typeof larkRegions)[number];
export const installationStatuses = ['active', 'revoked'] as const;
export type ConnectionState = (typeof connectionStates)[number];

/** One Lark bot bound to one agent. Rows are kept when revoked so history stays attributable. */
export const larkInstallation = pgTable(
  'lark_installation',
  {
    id: uuid().primaryKey().defaultRandom(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspace.id, { onDelete: 'cascade' }),
    agentId: uuid().notNull(),
    // A Lark app_id is globally unique across both brands, which makes UNIQUE(app_id) safe.
    appId: text().notNull(),
    // AES-256-GCM ciphertext; the plaintext secret is never stored.
    appSecretCiphertext: text().notNull(),
    tenantKey: text(),
    botOpenId: text().notNull(),
    // Learned from contact/v3 after install; null when that scope was denied.
    botUnionId: text(),
    region: text({ enum: larkRegions }).notNull().default('feishu'),
    status: text({ enum: installationStatuses }).notNull().default('active'),
    installerUserId: text()
      .notNull()
      .references(() => user.id),
    wsLeaseToken: text(),
    wsLeaseExpiresAt: timestamp({ withTimezone: true }),
    connectionState: text({ enum: connectionStates }).notNull().default('disconnected'),
    lastEventAt: timestamp({ withTimezone: true }),
    lastConnectedAt: timestamp({ withTimezone: true }),
    installedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('lark_installation_workspace_agent_unique').on(t.workspaceId, t.agentId),
    unique('lark_installation_app_id_unique').on(t.appId),
    // Target of the composite FKs that pin child rows to the installation's workspace.
    unique('lark_installation_id_workspace_unique').on(t.id, t.workspaceId),
    foreignKey({ columns: [t.agentId, t.workspaceId], foreignColumns: [agent.id, agent.workspaceId] }).onDelete('cascade'),
    index('lark_installation_active_idx').on(t.createdAt).where(sql`${t.status} = 'active'`),
    check('lark_installation_region_valid', sql`${t.region} IN ('feishu', 'lark')`),
    check('lark_installation_status_valid', sql`${t.status} IN ('active', 'revoked')`),
    check('lark_installation_connection_state_valid', sql`${t.connectionState} IN ('disconnected', 'connecting', 'connected', 'backoff')`),
    check('lark_installation_lease_pair', sql`(${t.wsLeaseToken} IS NULL) = (${t.wsLeaseExpiresAt} IS NULL)`),
    check('lark_installation_app_id_format', sql`${t.appId} ~ '^cli_[A-Za-z0-9]+$'`),
  ],
);

/**
 * A Lark user (open_id, scoped to one installation) mapped to a workspace member. The composite
 * FK to member(workspace, user) cascades the binding away when the membership goes, so a row's
 * existence is itself proof of current membership.
 */
export const larkUserBinding = pgTable(
  'lark_user_binding',
  {
    id: uuid().primaryKey().defaultRandom(),
    workspaceId: uuid().notNull(),
    installationId: uuid().notNull(),
    userId: text().notNull(),
    larkOpenId: text().notNull(),
    larkUnionId: text(),
    // The person's name in Lark, learned off the ACK path; null until then (or when the scope is denied).
    larkName: text(),
    boundAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('lark_user_binding_installation_open_id_unique').on(t.installationId, t.larkOpenId),
    foreignKey({
      name: 'lark_user_binding_installation_fk',
      columns: [t.installationId, t.workspaceId],
      foreignColumns: [larkInstallation.id, larkInstallation.workspaceId],
    }).onDelete('cascade'),
    foreignKey({
      name: 'lark_user_binding_member_fk',
      columns: [t.workspaceId, t.userId],
      foreignColumns: [member.workspaceId, member.userId],
    }).onDelete('cascade'),
    index().on(t.workspaceId, t.userId),
  ],
);

export const larkChatTypes = ['p2p', 'group'] as const;

/** Which chat session a Lark chat feeds; one session per (installation, chat). */
export const larkChatSessionBinding = pgTable(
  'lark_chat_session_binding',
  {
    chatSessionId: uuid().primaryKey(),
    workspaceId: uuid().notNull(),
    installationId: uuid().notNull(),
    larkChatId: text().notNull(),
    larkChatType: text({ enum: larkChatTypes }).notNull(),
    // The topic (thread) this session follows; '' for the chat itself.
    larkThreadId: text().notNull().default(''),
    // A closed session keeps its history but no longer receives the chat's messages (`/new`, bot removed).
    closedAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // One open session per chat, and per topic within it.
    uniqueIndex('lark_chat_session_binding_chat_unique').on(t.installationId, t.larkChatId, t.larkThreadId).where(sql`${t.closedAt} IS NULL`),
    foreignKey({
      name: 'lark_chat_session_binding_session_fk',
      columns: [t.chatSessionId, t.workspaceId],
      foreignColumns: [chatSession.id, chatSession.workspaceId],
    }).onDelete('cascade'),
    foreignKey({
      name: 'lark_chat_session_binding_installation_fk',
      columns: [t.installationId, t.workspaceId],
      foreignColumns: [larkInstallation.id, larkInstallation.workspaceId],
    }).onDelete('cascade'),
    check('lark_chat_session_binding_type_valid', sql`${t.larkChatType} IN ('p2p', 'group')`),
  ],
);

/**
 * Two-phase idempotency gate for inbound messages: a claim (processed_at NULL, fenced by
 * claim_token) becomes terminal when its durable outcome commits.
 */
export const larkInboundMessageDedup = pgTable(
  'lark_inbound_message_dedup',
  {
    installationId: uuid()
      .notNull()
      .references(() => larkInstallation.id, { onDelete: 'cascade' }),
    messageId: text().notNull(),
    claimToken: uuid().notNull(),
    receivedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    processedAt: timestamp({ withTimezone: true }),
    // Claims taken without reaching an outcome: past a bound, the message is dropped, not retried forever.
    attempts: integer().notNull().default(1),
    // The worker node holding the claim: once that node stops heartbeating, its claim is re-taken at once.
    claimedBy: text(),
  },
  (t) => [primaryKey({ columns: [t.installationId, t.messageId] }), index().on(t.receivedAt)],
);

export type LarkDropReason = (typeof larkDropReasons)[number];

/** Routing data and the reason for every dropped event. There is deliberately no body column. */
export const larkInboundAudit = pgTable(
  'lark_inbound_audit',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    installationId: uuid().references(() => larkInstallation.id, { onDelete: 'cascade' }),
    larkChatId: text(),
    eventType: text().notNull(),
    larkEventId: text(),
    larkMessageId: text(),
    dropReason: text({ enum: larkDropReasons }).notNull(),
    receivedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index().on(t.installationId, t.receivedAt),
    check(
      'lark_inbound_audit_reason_valid',
      sql`${t.dropReason} IN ('invalid_event', 'revoked_installation', 'duplicate', 'not_addressed_in_group', 'non_workspace_member', 'unsupported_event', 'unbound_user', 'dispatch_failed')`,
    ),
  ],
);

/** Single-use member binding tokens; only the SHA-256 of the token is stored. */
export const larkBindingToken = pgTable(
  'lark_binding_token',
  {
    tokenHash: text().primaryKey(),
    workspaceId: uuid().notNull(),
    installationId: uuid().notNull(),
    larkOpenId: text().notNull(),
    // The binding prompt that carried this token (a retried send replaces its own token).
    outboxId: uuid(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    consumedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    foreignKey({
      name: 'lark_binding_token_installation_fk',
      columns: [t.installationId, t.workspaceId],
      foreignColumns: [larkInstallation.id, larkInstallation.workspaceId],
    }).onDelete('cascade'),
    index().on(t.installationId, t.larkOpenId),
    index().on(t.expiresAt),
    // The product's 15-minute cap, enforced by storage too.
    check('lark_binding_token_ttl_cap', sql`${t.expiresAt} > ${t.createdAt} AND ${t.expiresAt} <= ${t.createdAt} + interval '15 minutes'`),
    check('lark_binding_token_hash_format', sql`${t.tokenHash} ~ '^[0-9a-f]{64}$'`),
  ],
);

export const registrationStatuses = ['pending', 'success', 'error'] as const;
export type RegistrationStatus = (typeof registrationStatuses)[number];
export type RegistrationErrorReason = (typeof registrationErrorReasons)[number];

/** A device-flow install in progress. Lives in Postgres so any web replica answers and restarts lose nothing. */
export const larkRegistrationSession = pgTable(
  'lark_registration_session',
  {
    id: uuid().primaryKey().defaultRandom(),
    workspaceId: uuid().notNull(),
    agentId: uuid().notNull(),
    initiatorUserId: text()
      .notNull()
      .references(() => user.id, { onDelete: 'cascade' }),
    // The brand whose accounts host is polled now; it changes at most once (the brand switch).
    region: text({ enum: larkRegions }).notNull(),
    brandSwitched: boolean().notNull().default(false),
    deviceCodeCiphertext: text().notNull(),
    qrCodeUrl: text().notNull(),
    intervalSeconds: integer().notNull(),
    nextPollAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    status: text({ enum: registrationStatuses }).notNull().default('pending'),
    errorReason: text({ enum: registrationErrorReasons }),
    errorMessage: text(),
    installationId: uuid(),
    // A poller holds a session briefly while it talks to Lark, so two workers never poll it at once.
    pollerToken: text(),
    pollerUntil: timestamp({ withTimezone: true }),
    pollAttempts: integer().notNull().default(0),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    foreignKey({ columns: [t.agentId, t.workspaceId], foreignColumns: [agent.id, agent.workspaceId] }).onDelete('cascade'),
    foreignKey({
      name: 'lark_registration_session_installation_fk',
      columns: [t.installationId, t.workspaceId],
      foreignColumns: [larkInstallation.id, larkInstallation.workspaceId],
    }).onDelete('cascade'),
    index('lark_registration_session_pending_idx').on(t.nextPollAt).where(sql`${t.status} = 'pending'`),
    check('lark_registration_session_status_valid', sql`${t.status} IN ('pending', 'success', 'error')`),
    check('lark_registration_session_region_valid', sql`${t.region} IN ('feishu', 'lark')`),
    check('lark_registration_session_interval_positive', sql`${t.intervalSeconds} > 0`),
    check(
      'lark_registration_session_error_reason_valid',
      sql`${t.errorReason} IS NULL OR ${t.errorReason} IN ('expired', 'access_denied', 'lark_protocol_error', 'bot_info_failed', 'installation_conflict', 'installer_bind_failed', 'internal_error')`,
    ),
    check('lark_registration_session_error_has_reason', sql`${t.status} <> 'error' OR ${t.errorReason} IS NOT NULL`),
    check('lark_registration_session_success_has_installation', sql`${t.status} <> 'success' OR ${t.installationId} IS NOT NULL`),
  ],
);

/** Where a chat message came from in Lark, so the agent's reply can go back to the same chat or thread. */
export const larkInboundMessage = pgTable(
  'lark_inbound_message',
  {
    chatMessageId: uuid()
      .primaryKey()
      .references(() => chatMessage.id, { onDelete: 'cascade' }),
    workspaceId: uuid().notNull(),
    installationId: uuid().notNull(),
    larkMessageId: text().notNull(),
    larkChatId: text().notNull(),
    larkThreadId: text(),
    larkRootId: text(),
    // The message this one quotes (a reply), fetched for the agent's context.
    larkParentId: text(),
    // Lark's msg_type (text, post, image, file, merge_forward, ...).
    larkMessageType: text(),
    senderOpenId: text().notNull(),
    // The "Typing" reaction the bot put on this message while its answer was being written.
    typingReactionId: text(),
    // Set when the sender recalled the message in Lark.
    recalledAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    foreignKey({
      name: 'lark_inbound_message_installation_fk',
      columns: [t.installationId, t.workspaceId],
      foreignColumns: [larkInstallation.id, larkInstallation.workspaceId],
    }).onDelete('cascade'),
    unique('lark_inbound_message_lark_id_unique').on(t.installationId, t.larkMessageId),
  ],
);

export const outboxKinds = [
  'agent_reply',
  'agent_error',
  'agent_stopped',
  'binding_prompt',
  'agent_offline',
  'agent_archived',
  'issue_created',
  'issue_usage',
  'retract_answer',
  'bot_intro',
  'web_question',
  'session_reset',
  'unbind_confirm',
  'unbound',
  'command_usage',
] as const;
export type OutboxKind = (typeof outboxKinds)[number];
export const outboxStatuses = ['pending', 'sent', 'failed', 'skipped'] as const;
export type OutboxStatus = (typeof outboxStatuses)[number];

/**
 * Every message to Lark, written in the same transaction as its cause and delivered exactly once
 * (Lark's idempotency uuid is the row id) or recorded as failed.
 */
export const larkOutbox = pgTable(
  'lark_outbox',
  {
    id: uuid().primaryKey().defaultRandom(),
    workspaceId: uuid().notNull(),
    installationId: uuid().notNull(),
    kind: text({ enum: outboxKinds }).notNull(),
    // Either a direct send (chat_id or open_id) or a reply to a message (optionally inside its thread).
    receiveIdType: text({ enum: ['chat_id', 'open_id'] }),
    receiveId: text(),
    replyToMessageId: text(),
    replyInThread: boolean().notNull().default(false),
    // The Lark user a binding prompt is for; one pending prompt per (installation, user).
    larkOpenId: text(),
    body: jsonb().$type<Record<string, unknown>>().notNull(),
    // The agent run this message belongs to (its answer, its error, its stop, a retraction), if any.
    taskId: uuid(),
    status: text({ enum: outboxStatuses }).notNull().default('pending'),
    attempts: integer().notNull().default(0),
    // A deliverer holds a row while it talks to Lark; a crashed deliverer's hold simply runs out.
    sendingUntil: timestamp({ withTimezone: true }),
    // When the row may be tried (again): deliverers claim pending rows that are due and not held.
    nextAttemptAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    // Long content goes out as several messages; this many are already sent.
    partsSent: integer().notNull().default(0),
    larkMessageIds: text().array().notNull().default(sql`'{}'::text[]`),
    lastErrorCode: integer(),
    lastError: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    foreignKey({
      name: 'lark_outbox_installation_fk',
      columns: [t.installationId, t.workspaceId],
      foreignColumns: [larkInstallation.id, larkInstallation.workspaceId],
    }).onDelete('cascade'),
    index('lark_outbox_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index().on(t.installationId, t.createdAt),
    index('lark_outbox_task_idx').on(t.taskId).where(sql`${t.taskId} IS NOT NULL`),
    uniqueIndex('lark_outbox_one_pending_prompt').on(t.installationId, t.larkOpenId).where(sql`${t.kind} = 'binding_prompt' AND ${t.status} = 'pending'`),
    check(
      'lark_outbox_kind_valid',
      sql`${t.kind} IN ('agent_reply', 'agent_error', 'agent_stopped', 'binding_prompt', 'agent_offline', 'agent_archived', 'issue_created', 'issue_usage', 'retract_answer', 'bot_intro', 'web_question', 'session_reset', 'unbind_confirm', 'unbound', 'command_usage')`,
    ),
    check('lark_outbox_status_valid', sql`${t.status} IN ('pending', 'sent', 'failed', 'skipped')`),
    check('lark_outbox_target', sql`(${t.receiveIdType} IS NOT NULL AND ${t.receiveId} IS NOT NULL) OR ${t.replyToMessageId} IS NOT NULL`),
    check('lark_outbox_receive_id_type_valid', sql`${t.receiveIdType} IS NULL OR ${t.receiveIdType} IN ('chat_id', 'open_id')`),
    check('lark_outbox_prompt_has_user', sql`${t.kind} <> 'binding_prompt' OR ${t.larkOpenId} IS NOT NULL`),
    check('lark_outbox_failed_has_error', sql`${t.status} <> 'failed' OR ${t.lastError} IS NOT NULL`),
  ],
);

/**
 * Events accepted while every dispatch slot was busy: stored before the ACK, dispatched shortly
 * after. Under a burst, Lark gets its ACK in time and nothing waits on its redelivery schedule.
 * Rows are deleted once dispatched; the dispatcher's dedup makes a second pass harmless.
 */
export const larkInboundBacklog = pgTable(
  'lark_inbound_backlog',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    installationId: uuid()
      .notNull()
      .references(() => larkInstallation.id, { onDelete: 'cascade' }),
    appId: text().notNull(),
    payload: text().notNull(),
    receivedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    // A processor holds a row while dispatching it, and a row parked while live dispatches were in
    // flight starts held until they end; a crashed holder's hold simply runs out.
    claimedUntil: timestamp({ withTimezone: true }),
    attempts: integer().notNull().default(0),
  },
  (t) => [check('lark_inbound_backlog_attempts_nonneg', sql`${t.attempts} >= 0`)],
);

export const streamCardStates = ['open', 'finished', 'interrupted'] as const;
export type StreamCardState = (typeof streamCardStates)[number];

/**
 * A CardKit card an answer streams into: one row per card of one run attempt (long answers roll
 * over into following cards). Written when the card is created and when it is closed, never per
 * delta, so a crashed run's open cards can be found and marked interrupted.
 */
export const larkStreamCard = pgTable(
  'lark_stream_card',
  {
    id: uuid().primaryKey().defaultRandom(),
    workspaceId: uuid().notNull(),
    installationId: uuid().notNull(),
    taskId: uuid().notNull(),
    attempt: integer().notNull(),
    part: integer().notNull(),
    cardId: text().notNull(),
    larkMessageId: text(),
    state: text({ enum: streamCardStates }).notNull().default('open'),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    closedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    foreignKey({
      name: 'lark_stream_card_installation_fk',
      columns: [t.installationId, t.workspaceId],
      foreignColumns: [larkInstallation.id, larkInstallation.workspaceId],
    }).onDelete('cascade'),
    foreignKey({ name: 'lark_stream_card_task_fk', columns: [t.taskId], foreignColumns: [agentTask.id] }).onDelete('cascade'),
    unique('lark_stream_card_part_unique').on(t.taskId, t.attempt, t.part),
    unique('lark_stream_card_card_unique').on(t.cardId),
    check('lark_stream_card_state_valid', sql`${t.state} IN ('open', 'finished', 'interrupted')`),
    check('lark_stream_card_part_nonneg', sql`${t.part} >= 0 AND ${t.attempt} >= 0`),
    check('lark_stream_card_closed_when_not_open', sql`(${t.state} = 'open') = (${t.closedAt} IS NULL)`),
  ],
);

/** What the bot knows of a Lark chat: its name (titles and the drops table) and whether the bot is still in it. */
export const larkChat = pgTable(
  'lark_chat',
  {
    installationId: uuid().notNull(),
    workspaceId: uuid().notNull(),
    larkChatId: text().notNull(),
    name: text(),
    chatMode: text(),
    botPresent: boolean().notNull().default(true),
    fetchedAt: timestamp({ withTimezone: true }),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.installationId, t.larkChatId] }),
    foreignKey({
      name: 'lark_chat_installation_fk',
      columns: [t.installationId, t.workspaceId],
      foreignColumns: [larkInstallation.id, larkInstallation.workspaceId],
    }).onDelete('cascade'),
    check('lark_chat_name_len', sql`${t.name} IS NULL OR char_length(${t.name}) <= 200`),
  ],
);
