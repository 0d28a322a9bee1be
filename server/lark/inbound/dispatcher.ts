import { and, desc, eq, isNull, ne, sql, type SQL } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db, Tx } from '../../db/client';
import { chatMessage, chatSession, larkChatSessionBinding, larkInboundMessage, larkInstallation, type LarkDropReason } from '../../db/schema';
import { isUniqueViolation } from '../../db/pg-errors';
import { executePrepared } from '../../db/prepared';
import { env } from '../../env';
import { appendAssistantNotice, appendUserMessage, touchChatSession } from '../../services/chat';
import { createIssue } from '../../services/issues';
import { enqueueAgentTask } from '../../services/tasks';
import { TASK_QUEUED_CHANNEL, workspaceEventNotice } from '../../events';
import { decodeInboundEvent, eventTypeOf, isBotMentioned, rewriteMentionsForAgent, type DecodedEvent, type InboundMessage } from '../protocol';
import { hasLiveBindingPrompt } from '../binding/tokens';
import { botLocaleForInstallation } from '../outbound/bot-locale';
import { enqueueOutboxMessage, type OutboxTarget } from '../outbound/outbox';
import { noticeText, type NoticeBody } from '../outbound/render';
import { replyTargetFor } from '../outbound/reply-target';
import { recordInboundDrop } from './audit';
import { claimStatement, markInboundProcessed, MAX_DISPATCH_ATTEMPTS, releaseInboundClaim, type AbandonedClaims, type InboundClaim } from './dedup';
import { parseIssueCommand } from './issue-command';
import { parseChatCommand } from './chat-commands';
import { handleRecall } from './recall';
import { larkSessionTitle, topicTitle } from './session-titles';

export type DispatchOutcome =
  | { outcome: 'ingested'; chatMessageId: string; taskId: string }
  | { outcome: 'issue_created'; chatMessageId: string; issueId: string; identifier: string }
  | { outcome: 'issue_usage'; chatMessageId: string }
  | { outcome: 'needs_binding' }
  | { outcome: 'agent_offline'; chatMessageId: string }
  | { outcome: 'agent_archived'; chatMessageId: string }
  /** `/new`: the chat's (or topic's) session was closed; the next message starts a new one. */
  | { outcome: 'session_reset'; closedSessionId: string | null }
  | { outcome: 'unbind_confirm' }
  | { outcome: 'unbound' }
  | { outcome: 'command_usage' }
  | { outcome: 'bot_added' }
  | { outcome: 'bot_removed'; closedSessions: number }
  | { outcome: 'p2p_entered'; prompted: boolean }
  | { outcome: 'recall'; result: 'recalled' | 'unknown' }
  | { outcome: 'dropped'; reason: LarkDropReason };

/**
 * What the connector should answer: 200 for every durable outcome and deliberate drop, 500 to have
 * Lark redeliver. `unparked`: the parked event was removed from the backlog with the write.
 */
export type DispatchResult = { ack: 200 | 500; result: DispatchOutcome | { outcome: 'retry'; error: string }; unparked?: true };

export type DispatcherDeps = {
  db: Db;
  logger: Logger;
  appUrl?: string;
  budgetMs?: number;
  /** This process's claims that could not be released; a redelivery may re-take them at once. */
  abandoned?: AbandonedClaims;
  /** This worker's node id: its claims are re-taken at once when the node stops heartbeating. */
  nodeId?: string;
};

/** The chat message's own bound (its CHECK); Lark texts are at most 150 KB, so they always fit. */
const MAX_MESSAGE_CHARS = 150_000;

/** The ACK must leave within Lark's 3 s; the dispatcher gives up well before that. */
export const DISPATCH_BUDGET_MS = 2000;

export type DispatchInstallation = Pick<
  typeof larkInstallation.$inferSelect,
  'id' | 'appId' | 'workspaceId' | 'agentId' | 'status' | 'botOpenId' | 'botUnionId' | 'installerUserId'
>;
type Installation = DispatchInstallation;
type ChatEvent = Exclude<DecodedEvent, { kind: 'message' | 'ignore' }>;

/**
 * What an event's claim is keyed on, and who and where the claim statement looks up. Messages are
 * deduplicated on their message id; events without a message of their own on their event id, in a
 * key space of their own.
 */
type ClaimSubject = {
  key: string;
  appId: string | null;
  senderOpenId: string | null;
  chatId: string;
  threadId: string | null;
  routing: { chatId: string; eventType: string; eventId: string; messageId: string | null };
};

function claimSubjectOf(decoded: Exclude<DecodedEvent, { kind: 'ignore' }>): ClaimSubject {
  if (decoded.kind === 'message') {
    const m = decoded.message;
    return {
      key: m.messageId,
      appId: m.appId,
      senderOpenId: m.sender.openId,
      chatId: m.chatId,
      threadId: m.threadId,
      routing: { chatId: m.chatId, eventType: m.eventType, eventId: m.eventId, messageId: m.messageId },
    };
  }
  const eventType = eventTypeOf(decoded);
  return {
    key: `event:${decoded.eventId}`,
    appId: decoded.appId,
    senderOpenId: decoded.kind === 'p2p_entered' ? decoded.operatorOpenId : null,
    chatId: decoded.chatId,
    threadId: null,
    routing: { chatId: decoded.chatId, eventType, eventId: decoded.eventId, messageId: decoded.kind === 'recall' ? decoded.messageId : null },
  };
}

class ClaimLostError extends Error {}

/**
 * The ACK path for one delivery: claim, filter, identify, write the user's message and what follows
 * from it in one transaction, answer. Chat events (recall, the bot joining or leaving a group, a
 * person opening the direct chat) take the same claim and transaction. No outbound HTTP happens
 * here: replies are outbox rows.
 */
export async function dispatchInboundEvent(
  deps: DispatcherDeps,
  input: { appId: string; payload: Uint8Array | string; decoded?: DecodedEvent; backlogId?: number },
): Promise<DispatchResult> {
  const decoded = input.decoded ?? decodeInboundEvent(input.payload);
  if (decoded.kind === 'ignore') {
    const [installation] = await deps.db.select({ id: larkInstallation.id }).from(larkInstallation).where(eq(larkInstallation.appId, input.appId));
    const reason: LarkDropReason = decoded.reason === 'unsupported_event_type' ? 'unsupported_event' : 'invalid_event';
    await recordInboundDrop(deps.db, {
      installationId: installation?.id ?? null,
      chatId: null,
      eventType: decoded.eventType ?? 'unknown',
      eventId: decoded.eventId ?? null,
      messageId: null,
      reason,
    });
    return { ack: 200, result: { outcome: 'dropped', reason } };
  }
  const subject = claimSubjectOf(decoded);
  const routing = subject.routing;
  const abandonedToken = deps.abandoned?.take({ appId: input.appId, messageId: subject.key }) ?? null;
  const { installation, claim: claimed, context } = await claimWithContext(deps.db, { appId: input.appId, subject, abandonedToken, nodeId: deps.nodeId ?? null });
  if (!installation || (subject.appId && subject.appId !== installation.appId)) {
    await recordInboundDrop(deps.db, { installationId: installation?.id ?? null, ...routing, reason: 'invalid_event' });
    return { ack: 200, result: { outcome: 'dropped', reason: 'invalid_event' } };
  }
  if (installation.status !== 'active') {
    await recordInboundDrop(deps.db, { installationId: installation.id, ...routing, reason: 'revoked_installation' });
    return { ack: 200, result: { outcome: 'dropped', reason: 'revoked_installation' } };
  }
  if (!claimed) throw new Error('an active installation was not claimed');
  if ('processed' in claimed) return { ack: 200, result: { outcome: 'dropped', reason: 'duplicate' } };
  // Another worker holds a live claim: it may still fail, so Lark must keep the message.
  if ('inFlight' in claimed) return { ack: 500, result: { outcome: 'retry', error: 'being processed elsewhere' } };
  const claim = { appId: installation.appId, installationId: installation.id, messageId: subject.key, claimToken: claimed.claimed };
  const log = deps.logger.child({ installationId: installation.id, larkMessageId: routing.messageId, larkEventId: routing.eventId });
  if (claimed.attempts > MAX_DISPATCH_ATTEMPTS) {
    // The same message failed every time: a deterministic failure, not a blip. End it durably.
    log.error({ attempts: claimed.attempts }, 'inbound message failed on every attempt; recording it as dropped');
    return endWithDrop(deps, claim, { installationId: installation.id, ...routing, reason: 'dispatch_failed' });
  }

  const message = decoded.kind === 'message' ? decoded.message : null;
  const fast = message && context && fastPathFor(installation, message, context);
  const work = (
    fast && message
      ? // The common case, a member's message in a known chat, is one statement: no transaction to hold open.
        writeUserMessage(deps.db, claim, installation, message, fast, input.backlogId ?? null).then((written) => {
          if (!written) throw new ClaimLostError();
          return written;
        })
      : deps.db.transaction(async (tx) => {
          const result = message
            ? await processClaimed(tx, deps, installation, message, context)
            : await processChatEvent(tx, installation, decoded as ChatEvent, context);
          // The durable outcome and the end of the claim commit together; a rotated or released claim rolls it all back.
          if ((await markInboundProcessed(tx, claim)) === 0) throw new ClaimLostError();
          return result;
        })
  ).then(
    (outcome): DispatchResult => (fast && input.backlogId !== undefined ? { ack: 200, result: outcome, unparked: true } : { ack: 200, result: outcome }),
    async (err): Promise<DispatchResult> => {
      if (err instanceof ClaimLostError) return { ack: 200, result: { outcome: 'dropped', reason: 'duplicate' } };
      // An unreleased claim goes stale and is re-taken on redelivery.
      await releaseClaim(deps, claim);
      log.error({ err }, 'inbound dispatch failed; asking Lark to redeliver');
      return { ack: 500, result: { outcome: 'retry', error: (err as Error).message } };
    },
  );
  let timer: NodeJS.Timeout | undefined;
  const overBudget = new Promise<DispatchResult>((resolve) => {
    timer = setTimeout(async () => {
      // Releasing makes the late write's mark match nothing, so it rolls back; Lark redelivers.
      await releaseClaim(deps, claim);
      log.warn({ budgetMs: deps.budgetMs ?? DISPATCH_BUDGET_MS }, 'inbound dispatch over budget; released for redelivery');
      resolve({ ack: 500, result: { outcome: 'retry', error: 'dispatch exceeded its time budget' } });
    }, deps.budgetMs ?? DISPATCH_BUDGET_MS);
  });
  try {
    return await Promise.race([work, overBudget]);
  } finally {
    clearTimeout(timer);
  }
}

/** What the pipeline knows of the sender and the chat after the claim statement. */
type DispatchContext = {
  agent_name: string;
  workspace_name: string;
  slug: string;
  /** The sender's lark_user_binding, when they are linked. */
  binding_id: string | null;
  user_id: string | null;
  member_user_id: string | null;
  sender_name: string | null;
  session_id: string | null;
  session_agent_id: string | null;
  session_agent_runnable: boolean | null;
};

type RawInstallation = {
  id: string;
  app_id: string;
  workspace_id: string;
  agent_id: string;
  status: Installation['status'];
  bot_open_id: string;
  bot_union_id: string | null;
  installer_user_id: string;
};

/**
 * One round trip before any write: the installation, the claim of (installation, message_id) when
 * the installation is active and the event is its own, the claim's existing state when it is not
 * ours to take, and everything the pipeline needs to know about the sender and the chat (the
 * session is the one of the message's topic, or of the chat itself outside topics).
 */
async function claimWithContext(
  db: Db,
  input: { appId: string; subject: ClaimSubject; abandonedToken: string | null; nodeId: string | null },
): Promise<{ installation: Installation | null; claim: InboundClaim | null; context: DispatchContext | null }> {
  const { subject } = input;
  const res = await executePrepared<DispatchContext & { installation: RawInstallation; claim_token: string | null; attempts: number | null; processed: boolean | null }>(db, sql`
    WITH inst AS (
      SELECT id, app_id, workspace_id, agent_id, status, bot_open_id, bot_union_id, installer_user_id FROM lark_installation WHERE app_id = ${input.appId}
    ), claim AS (
      ${claimStatement(sql`SELECT id FROM inst WHERE status = 'active' AND (${subject.appId}::text IS NULL OR app_id = ${subject.appId})`, subject.key, input.abandonedToken, input.nodeId)}
    )
    SELECT row_to_json(inst) AS installation,
      (SELECT claim_token FROM claim) AS claim_token, (SELECT attempts FROM claim) AS attempts,
      (SELECT d.processed_at IS NOT NULL FROM lark_inbound_message_dedup d WHERE d.installation_id = inst.id AND d.message_id = ${subject.key}) AS processed,
      a.name AS agent_name, w.name AS workspace_name, w.slug, b.id AS binding_id, b.user_id, m.user_id AS member_user_id, u.name AS sender_name,
      s.chat_session_id AS session_id, sa.id AS session_agent_id, (sa.archived_at IS NULL AND sa.runtime_kind IS NOT NULL) AS session_agent_runnable
    FROM inst
    LEFT JOIN agent a ON a.id = inst.agent_id AND a.workspace_id = inst.workspace_id
    LEFT JOIN workspace w ON w.id = inst.workspace_id
    LEFT JOIN lark_user_binding b ON b.installation_id = inst.id AND b.lark_open_id = ${subject.senderOpenId}::text
    LEFT JOIN member m ON m.workspace_id = b.workspace_id AND m.user_id = b.user_id
    LEFT JOIN "user" u ON u.id = b.user_id
    LEFT JOIN lark_chat_session_binding s
      ON s.installation_id = inst.id AND s.lark_chat_id = ${subject.chatId} AND s.lark_thread_id = COALESCE(${subject.threadId}::text, '') AND s.closed_at IS NULL
    LEFT JOIN chat_session cs ON cs.id = s.chat_session_id AND cs.workspace_id = inst.workspace_id
    LEFT JOIN agent sa ON sa.id = cs.agent_id AND sa.workspace_id = cs.workspace_id`);
  const row = res.rows[0];
  if (!row) return { installation: null, claim: null, context: null };
  const i = row.installation;
  const installation: Installation = {
    id: i.id,
    appId: i.app_id,
    workspaceId: i.workspace_id,
    agentId: i.agent_id,
    status: i.status,
    botOpenId: i.bot_open_id,
    botUnionId: i.bot_union_id,
    installerUserId: i.installer_user_id,
  };
  // No claim and no row in sight: another worker inserted the claim while this statement waited on
  // it, after this statement's snapshot was taken. It is that worker's message now: in flight.
  const claim: InboundClaim | null =
    row.claim_token !== null ? { claimed: row.claim_token, attempts: row.attempts! } : row.processed ? { processed: true } : { inFlight: true };
  return { installation, claim, context: row.agent_name === null ? null : row };
}

type FastPath = { userId: string; sessionId: string; agentId: string; content: string };

/**
 * The message can be written in one statement: a linked member writing (to the bot, in a group) in
 * a chat or topic that already has its session, whose agent can run, with no command to interpret. Anything
 * else takes the general path.
 */
function fastPathFor(installation: Installation, message: InboundMessage, c: DispatchContext): FastPath | null {
  const bot = { unionId: installation.botUnionId, openId: installation.botOpenId };
  if (message.chatType === 'group' && !isBotMentioned(message.mentions, bot)) return null;
  if (!message.sender.openId || !c.user_id || !c.member_user_id || !c.session_id || !c.session_agent_id || !c.session_agent_runnable) return null;
  const content = rewriteMentionsForAgent(message.text, message.mentions, bot).slice(0, MAX_MESSAGE_CHARS);
  if (parseIssueCommand(content) || parseChatCommand(content)) return null;
  return { userId: c.user_id, sessionId: c.session_id, agentId: c.session_agent_id, content };
}

/**
 * The user's message, its Lark origin, its agent task, the session's place in the list, the
 * notices for live views, the end of the claim and (for a parked event) its backlog row, as one statement: it writes nothing unless the
 * claim is still ours. Null when it was not (the claim was re-taken or released).
 */
async function writeUserMessage(
  db: Db,
  claim: { installationId: string; messageId: string; claimToken: string },
  installation: Installation,
  message: InboundMessage,
  fast: FastPath,
  backlogId: number | null,
): Promise<DispatchOutcome | null> {
  const ws = sql`${installation.workspaceId}::uuid`;
  const session = sql`${fast.sessionId}::uuid`;
  const files = message.attachments;
  const res = await executePrepared<{ message_id: string; task_id: string }>(db, sql`
    WITH mark AS (
      UPDATE lark_inbound_message_dedup SET processed_at = now()
      WHERE installation_id = ${claim.installationId} AND message_id = ${claim.messageId} AND claim_token = ${claim.claimToken} AND processed_at IS NULL
      RETURNING 1
    ), message AS (
      INSERT INTO chat_message (workspace_id, session_id, role, content, author_user_id, attachment_count)
      SELECT ${ws}, ${session}, 'user', ${fast.content}, ${fast.userId}, ${files.length} FROM mark
      RETURNING id
    ), origin AS (
      INSERT INTO lark_inbound_message (chat_message_id, workspace_id, installation_id, lark_message_id, lark_chat_id, lark_thread_id, lark_root_id, lark_parent_id, lark_message_type, sender_open_id)
      SELECT id, ${ws}, ${installation.id}::uuid, ${message.messageId}, ${message.chatId}, ${message.threadId}, ${message.rootId}, ${message.parentId}, ${message.messageType}, ${message.sender.openId} FROM message
      RETURNING 1
    ),${files.length > 0 ? sql` files AS (${insertAttachmentsSql(ws, sql`(SELECT id FROM message)`, message)}),` : sql``} task AS (
      INSERT INTO agent_task (workspace_id, agent_id, session_id, trigger_message_id)
      SELECT ${ws}, ${fast.agentId}::uuid, ${session}, id FROM message
      RETURNING id
    ), touched AS (
      UPDATE chat_session SET updated_at = now() WHERE workspace_id = ${ws} AND id = ${session} AND EXISTS (SELECT 1 FROM mark)
      RETURNING 1
    ), unparked AS (
      -- A parked event leaves the backlog with its write, in the same commit.
      DELETE FROM lark_inbound_backlog WHERE id = ${backlogId}::bigint AND EXISTS (SELECT 1 FROM mark)
      RETURNING 1
    )
    SELECT m.id AS message_id, t.id AS task_id,
      ${workspaceEventNotice(ws, sql`json_build_object('type', 'chat.message.created', 'session_id', ${session}, 'message_id', m.id)`, session)} AS message_notified,
      pg_notify(${TASK_QUEUED_CHANNEL}, t.id::text) AS task_queued,
      ${workspaceEventNotice(ws, sql`json_build_object('type', 'task.updated', 'session_id', ${session}, 'task_id', t.id, 'status', 'queued')`, session)} AS task_notified
    FROM message m, task t`);
  const row = res.rows[0];
  return row ? { outcome: 'ingested', chatMessageId: row.message_id, taskId: row.task_id } : null;
}

/**
 * The rows of a message's images and files, waiting for the worker to download them after the ACK
 * (one it can never download, a sticker, is failed at once with its reason). A data-modifying CTE
 * body or statement.
 */
function insertAttachmentsSql(ws: SQL, chatMessageId: SQL, message: InboundMessage): SQL {
  const rows = message.attachments.map((a, position) => ({ position, kind: a.kind, file_name: a.fileName?.slice(0, 255) || null, duration_ms: a.durationMs, key: a.key, resource_type: a.resourceType }));
  return sql`INSERT INTO attachment (workspace_id, chat_message_id, source, position, kind, file_name, duration_ms, lark_message_id, lark_file_key, lark_resource_type, state, failure)
    SELECT ${ws}, ${chatMessageId}, 'message', a.position, a.kind, a.file_name, a.duration_ms, ${message.messageId}, a.key, a.resource_type,
      CASE WHEN a.resource_type IS NULL THEN 'failed' ELSE 'pending' END, CASE WHEN a.resource_type IS NULL THEN 'not_downloadable' END
    FROM json_to_recordset(${JSON.stringify(rows)}::json) AS a(position int, kind text, file_name text, duration_ms int, key text, resource_type text)
    RETURNING 1`;
}

/** Gives a claim back; when even that fails, remembers it so this process's next redelivery re-takes it. */
async function releaseClaim(deps: DispatcherDeps, claim: { appId: string; installationId: string; messageId: string; claimToken: string }): Promise<void> {
  try {
    await releaseInboundClaim(deps.db, claim);
  } catch (err) {
    deps.logger.warn({ err }, 'releasing the inbound claim failed; the redelivery will re-take it');
    deps.abandoned?.add(claim);
  }
}

/** Records a drop and ends the claim in one transaction: the message is done, Lark is told 200. */
async function endWithDrop(
  deps: DispatcherDeps,
  claim: { appId: string; installationId: string; messageId: string; claimToken: string },
  drop: Parameters<typeof recordInboundDrop>[1],
): Promise<DispatchResult> {
  try {
    await deps.db.transaction(async (tx) => {
      await recordInboundDrop(tx, drop);
      if ((await markInboundProcessed(tx, claim)) === 0) throw new ClaimLostError();
    });
    return { ack: 200, result: { outcome: 'dropped', reason: drop.reason } };
  } catch (err) {
    if (err instanceof ClaimLostError) return { ack: 200, result: { outcome: 'dropped', reason: 'duplicate' } };
    deps.logger.error({ err }, 'recording a drop failed; asking Lark to redeliver');
    await releaseClaim(deps, claim);
    return { ack: 500, result: { outcome: 'retry', error: 'recording the drop failed' } };
  }
}

async function processClaimed(
  tx: Tx,
  deps: DispatcherDeps,
  installation: Installation,
  message: InboundMessage,
  context: DispatchContext | null,
): Promise<DispatchOutcome> {
  const bot = { unionId: installation.botUnionId, openId: installation.botOpenId };
  const drop = async (reason: LarkDropReason): Promise<DispatchOutcome> => {
    await recordInboundDrop(tx, {
      installationId: installation.id,
      chatId: message.chatId,
      eventType: message.eventType,
      eventId: message.eventId,
      messageId: message.messageId,
      reason,
    });
    return { outcome: 'dropped', reason };
  };
  if (message.chatType === 'group' && !isBotMentioned(message.mentions, bot)) return drop('not_addressed_in_group');

  const senderOpenId = message.sender.openId;
  if (!senderOpenId) return drop('invalid_event');
  // Who is writing, whether they are still a member, the names for replies and the chat's session:
  // read by the claim statement, before any write.
  const row = context;
  if (!row) return drop('invalid_event');
  const names = { agentName: row.agent_name, workspaceName: row.workspace_name, slug: row.slug };
  const identity = row.user_id ? { userId: row.user_id, memberUserId: row.member_user_id, name: row.sender_name } : null;
  /**
   * A notice to the chat; when the chat has a session, the web chat shows it too, as the bot's
   * message in the bot's language. `touch`: it moves the session up (a notice that follows the
   * user's message leaves that to the end of the transaction).
   */
  const notice = async (target: OutboxTarget, body: NoticeBody, sessionId: string | null, touch: boolean) => {
    await enqueueOutboxMessage(tx, { workspaceId: installation.workspaceId, installationId: installation.id, target, body });
    if (!sessionId) return;
    const locale = await botLocaleForInstallation(tx, installation.id);
    await appendAssistantNotice(tx, { workspaceId: installation.workspaceId, sessionId, content: noticeText(body, locale) }, { touchSession: touch });
  };
  const content = rewriteMentionsForAgent(message.text, message.mentions, bot).slice(0, MAX_MESSAGE_CHARS);
  const chatCommand = parseChatCommand(content);

  // `/unbind` is for whoever writes it, linked or not, so it comes before the identity check.
  if (chatCommand?.kind === 'unbind') {
    const target = replyTargetFor(message.chatId, message);
    // Unlinking concerns one person: it is done in their direct chat with the bot, not before a group.
    if (message.chatType !== 'p2p') {
      await notice(target, { kind: 'command_usage', command: chatCommand.typed }, row.session_id, true);
      return { outcome: 'command_usage' };
    }
    if (row.binding_id) {
      await notice(target, { kind: 'unbind_confirm', bindingId: row.binding_id, workspaceName: names.workspaceName }, row.session_id, true);
      return { outcome: 'unbind_confirm' };
    }
    await notice(target, { kind: 'unbound', workspaceName: null }, row.session_id, true);
    return { outcome: 'unbound' };
  }

  if (!identity) {
    // Their words are not stored; the audit keeps that it happened (routing data only).
    await recordInboundDrop(tx, { installationId: installation.id, chatId: message.chatId, eventType: message.eventType, eventId: message.eventId, messageId: message.messageId, reason: 'unbound_user' });
    await promptBinding(tx, installation, senderOpenId, names);
    return { outcome: 'needs_binding' };
  }
  if (!identity.memberUserId) return drop('non_workspace_member');

  if (chatCommand?.kind === 'new') {
    const target = replyTargetFor(message.chatId, message);
    // A group's conversation is shared: one member cannot start it over for everyone.
    if (message.chatType !== 'p2p') {
      await notice(target, { kind: 'command_usage', command: chatCommand.typed }, row.session_id, true);
      return { outcome: 'command_usage' };
    }
    // The session keeps its history; the chat's next message opens a new one.
    const [closed] = await tx
      .update(larkChatSessionBinding)
      .set({ closedAt: sql`now()` })
      .where(
        and(
          eq(larkChatSessionBinding.installationId, installation.id),
          eq(larkChatSessionBinding.larkChatId, message.chatId),
          eq(larkChatSessionBinding.larkThreadId, message.threadId ?? ''),
          isNull(larkChatSessionBinding.closedAt),
        ),
      )
      .returning({ id: larkChatSessionBinding.chatSessionId });
    // The notice ends the conversation it closed.
    await notice(target, { kind: 'session_reset' }, closed?.id ?? null, true);
    return { outcome: 'session_reset', closedSessionId: closed?.id ?? null };
  }

  const sessionId = row.session_id ?? (await createChatSessionForChat(tx, installation, message, content, identity.userId, identity.name, names.agentName));
  const chatMsg = await appendUserMessage(tx, { workspaceId: installation.workspaceId, sessionId, authorUserId: identity.userId, content }, { touchSession: false });
  await tx.insert(larkInboundMessage).values({
    chatMessageId: chatMsg.id,
    workspaceId: installation.workspaceId,
    installationId: installation.id,
    larkMessageId: message.messageId,
    larkChatId: message.chatId,
    larkThreadId: message.threadId,
    larkRootId: message.rootId,
    larkParentId: message.parentId,
    larkMessageType: message.messageType,
    senderOpenId,
  });
  if (message.attachments.length > 0) {
    const ws = sql`${installation.workspaceId}::uuid`;
    await tx.execute(sql`WITH files AS (${insertAttachmentsSql(ws, sql`${chatMsg.id}::uuid`, message)})
      UPDATE chat_message SET attachment_count = (SELECT count(*) FROM files) WHERE id = ${chatMsg.id}::uuid AND workspace_id = ${ws}`);
  }
  const outcome = await (async (): Promise<DispatchOutcome> => {
    const target = replyTargetFor(message.chatId, message);

    const command = parseIssueCommand(content);
    if (command) {
      let title: string;
      let description: string;
      const previous = command.kind === 'bare' ? await previousUserMessage(tx, installation.workspaceId, sessionId, identity.userId, chatMsg.id) : null;
      if (command.kind === 'create') {
        title = command.title;
        description = command.description;
      } else if (previous && !parseIssueCommand(previous)) {
        const [first, ...rest] = previous.trim().split('\n');
        title = first.trim().slice(0, 300);
        description = rest.join('\n').trim();
      } else {
        await notice(target, { kind: 'issue_usage' }, sessionId, false);
        return { outcome: 'issue_usage', chatMessageId: chatMsg.id };
      }
      const created = await createIssue(tx, {
        workspaceId: installation.workspaceId,
        creatorUserId: identity.userId,
        title,
        description,
        originType: 'lark_chat',
        larkOrigin: { chatSessionId: sessionId, installationId: installation.id, larkChatId: message.chatId },
      });
      const appUrl = (deps.appUrl ?? env().APP_URL).replace(/\/+$/, '');
      await notice(target, { kind: 'issue_created', identifier: created.identifier, title: created.title, url: `${appUrl}/w/${names.slug}/issues/${created.id}` }, sessionId, false);
      return { outcome: 'issue_created', chatMessageId: chatMsg.id, issueId: created.id, identifier: created.identifier };
    }

    const enqueued = await enqueueAgentTask(tx, { workspaceId: installation.workspaceId, sessionId, triggerMessageId: chatMsg.id });
    if (enqueued.outcome === 'enqueued') return { outcome: 'ingested', chatMessageId: chatMsg.id, taskId: enqueued.task.id };
    await notice(target, { kind: enqueued.outcome, agentName: enqueued.agentName }, sessionId, false);
    return { outcome: enqueued.outcome, chatMessageId: chatMsg.id };
  })();
  // Last, so the session row is locked only for the commit.
  await touchChatSession(tx, { workspaceId: installation.workspaceId, sessionId });
  return outcome;
}

/** The sender's message before `currentId` in this session (a bare `/issue` turns it into the issue). */
async function previousUserMessage(tx: Tx, workspaceId: string, sessionId: string, userId: string, currentId: string): Promise<string | null> {
  const [row] = await tx
    .select({ content: chatMessage.content })
    .from(chatMessage)
    .where(
      and(
        eq(chatMessage.workspaceId, workspaceId),
        eq(chatMessage.sessionId, sessionId),
        eq(chatMessage.role, 'user'),
        eq(chatMessage.authorUserId, userId),
        ne(chatMessage.id, currentId),
      ),
    )
    .orderBy(desc(chatMessage.createdAt))
    .limit(1);
  return row?.content ?? null;
}

/**
 * Asks an unlinked Lark user to link their account, in their direct chat with the bot: at most one
 * live prompt per person (an unused link, or one waiting to be sent), however often they write.
 */
async function promptBinding(tx: Tx, installation: Installation, openId: string, names: { agentName: string; workspaceName: string }): Promise<boolean> {
  if (await hasLiveBindingPrompt(tx, { installationId: installation.id, larkOpenId: openId })) return false;
  const id = await enqueueOutboxMessage(tx, {
    workspaceId: installation.workspaceId,
    installationId: installation.id,
    target: { receiveIdType: 'open_id', receiveId: openId },
    body: { kind: 'binding_prompt', agentName: names.agentName, workspaceName: names.workspaceName },
    larkOpenId: openId,
  });
  return id !== null;
}

/**
 * The events that are not messages, in the dispatcher's transaction (which also ends their claim).
 * The bot joining a group remembers the chat and introduces itself; leaving it closes the chat's
 * sessions; a person opening the direct chat unlinked is asked to link; a recall goes to its handler.
 */
async function processChatEvent(tx: Tx, installation: Installation, event: ChatEvent, context: DispatchContext | null): Promise<DispatchOutcome> {
  const chat = { installationId: installation.id, workspaceId: installation.workspaceId, chatId: event.chatId };
  switch (event.kind) {
    case 'recall':
      return { outcome: 'recall', result: await handleRecall(tx, { installation, messageId: event.messageId, chatId: event.chatId }) };
    case 'bot_membership': {
      if (!event.added) {
        await tx.execute(sql`
          INSERT INTO lark_chat (installation_id, workspace_id, lark_chat_id, bot_present) VALUES (${chat.installationId}, ${chat.workspaceId}, ${chat.chatId}, false)
          ON CONFLICT (installation_id, lark_chat_id) DO UPDATE SET bot_present = false, updated_at = now()`);
        // The bot hears nothing more of this chat: its sessions end here (with their history).
        const closed = await tx
          .update(larkChatSessionBinding)
          .set({ closedAt: sql`now()` })
          .where(
            and(eq(larkChatSessionBinding.installationId, installation.id), eq(larkChatSessionBinding.larkChatId, event.chatId), isNull(larkChatSessionBinding.closedAt)),
          )
          .returning({ id: larkChatSessionBinding.chatSessionId });
        return { outcome: 'bot_removed', closedSessions: closed.length };
      }
      const name = event.chatName ? Array.from(event.chatName).slice(0, 200).join('') : null;
      await tx.execute(sql`
        INSERT INTO lark_chat (installation_id, workspace_id, lark_chat_id, name, bot_present) VALUES (${chat.installationId}, ${chat.workspaceId}, ${chat.chatId}, ${name}::text, true)
        ON CONFLICT (installation_id, lark_chat_id) DO UPDATE SET bot_present = true, name = COALESCE(EXCLUDED.name, lark_chat.name), updated_at = now()`);
      await enqueueOutboxMessage(tx, {
        workspaceId: installation.workspaceId,
        installationId: installation.id,
        target: { receiveIdType: 'chat_id', receiveId: event.chatId },
        body: { kind: 'bot_intro', agentName: context?.agent_name ?? 'Larkspur' },
      });
      return { outcome: 'bot_added' };
    }
    case 'p2p_entered': {
      // A linked person knows the bot already: opening the chat says nothing.
      if (!context || context.binding_id) return { outcome: 'p2p_entered', prompted: false };
      const prompted = await promptBinding(tx, installation, event.operatorOpenId, { agentName: context.agent_name, workspaceName: context.workspace_name });
      return { outcome: 'p2p_entered', prompted };
    }
  }
}

/**
 * Creates the session of a chat (or of a topic within it) seen for the first time. One open session
 * per (installation, chat, topic) even when two events race: the binding's unique key decides, and
 * the loser rolls back its own session (a savepoint) and uses the winner's. A group is remembered
 * in lark_chat here, once per session rather than once per message, so its name can be fetched.
 */
async function createChatSessionForChat(
  tx: Tx,
  installation: Installation,
  message: InboundMessage,
  content: string,
  senderUserId: string,
  senderName: string | null,
  agentName: string,
): Promise<string> {
  // A DM belongs to the person writing; a group session to the installer, a stable workspace identity.
  const creator = message.chatType === 'p2p' ? senderUserId : installation.installerUserId;
  const threadId = message.threadId ?? '';
  try {
    return await tx.transaction(async (sp) => {
      let chatName: string | null = null;
      if (message.chatType === 'group') {
        const known = await sp.execute<{ name: string | null }>(sql`
          INSERT INTO lark_chat (installation_id, workspace_id, lark_chat_id) VALUES (${installation.id}, ${installation.workspaceId}, ${message.chatId})
          ON CONFLICT (installation_id, lark_chat_id) DO UPDATE
            SET bot_present = true, updated_at = CASE WHEN lark_chat.bot_present THEN lark_chat.updated_at ELSE now() END
          RETURNING name`);
        chatName = known.rows[0]?.name ?? null;
      }
      const title = larkSessionTitle({ chatType: message.chatType, topic: threadId ? topicTitle(content) : null, chatName, senderName, agentName });
      const [session] = await sp
        .insert(chatSession)
        .values({ workspaceId: installation.workspaceId, agentId: installation.agentId, creatorUserId: creator, channel: 'lark', title })
        .returning({ id: chatSession.id });
      await sp.insert(larkChatSessionBinding).values({
        chatSessionId: session.id,
        workspaceId: installation.workspaceId,
        installationId: installation.id,
        larkChatId: message.chatId,
        larkChatType: message.chatType,
        larkThreadId: threadId,
      });
      return session.id;
    });
  } catch (err) {
    if (!isUniqueViolation(err, 'lark_chat_session_binding_chat_unique')) throw err;
    const [winner] = await tx
      .select({ id: larkChatSessionBinding.chatSessionId })
      .from(larkChatSessionBinding)
      .where(
        and(
          eq(larkChatSessionBinding.installationId, installation.id),
          eq(larkChatSessionBinding.larkChatId, message.chatId),
          eq(larkChatSessionBinding.larkThreadId, threadId),
          isNull(larkChatSessionBinding.closedAt),
        ),
      );
    if (!winner) throw err;
    return winner.id;
  }
}
