import { and, desc, eq, ne, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db, Tx } from '../../db/client';
import {
  chatMessage,
  chatSession,
  larkChatSessionBinding,
  larkInboundMessage,
  larkInstallation,
  type LarkDropReason,
} from '../../db/schema';
import { isUniqueViolation } from '../../db/pg-errors';
import { env } from '../../env';
import type { JobEnqueuer } from '../../jobs/queue';
import { appendUserMessage, touchChatSession } from '../../services/chat';
import { createIssue } from '../../services/issues';
import { enqueueAgentTask } from '../../services/tasks';
import { decodeInboundEvent, isBotMentioned, rewriteMentionsForAgent, type InboundMessage } from '../protocol';
import { hasLiveBindingPrompt } from '../binding/tokens';
import { enqueueOutboxMessage, type OutboxBody, type OutboxTarget } from '../outbound/outbox';
import { replyTargetFor } from '../outbound/reply-target';
import { recordInboundDrop } from './audit';
import { claimInboundMessage, markInboundProcessed, MAX_DISPATCH_ATTEMPTS, releaseInboundClaim, type AbandonedClaims } from './dedup';
import { parseIssueCommand } from './issue-command';

export type DispatchOutcome =
  | { outcome: 'ingested'; chatMessageId: string; taskId: string }
  | { outcome: 'issue_created'; chatMessageId: string; issueId: string; identifier: string }
  | { outcome: 'issue_usage'; chatMessageId: string }
  | { outcome: 'needs_binding' }
  | { outcome: 'agent_offline'; chatMessageId: string }
  | { outcome: 'agent_archived'; chatMessageId: string }
  | { outcome: 'dropped'; reason: LarkDropReason };

/** What the connector should answer: 200 for every durable outcome and deliberate drop, 500 to have Lark redeliver. */
export type DispatchResult = { ack: 200 | 500; result: DispatchOutcome | { outcome: 'retry'; error: string } };

export type DispatcherDeps = {
  db: Db;
  jobs: JobEnqueuer;
  logger: Logger;
  appUrl?: string;
  budgetMs?: number;
  /** This process's claims that could not be released; a redelivery may re-take them at once. */
  abandoned?: AbandonedClaims;
};

/** The chat message's own bound (its CHECK); Lark texts are at most 150 KB, so they always fit. */
const MAX_MESSAGE_CHARS = 150_000;

/** The ACK must leave within Lark's 3 s; the dispatcher gives up well before that. */
export const DISPATCH_BUDGET_MS = 2000;

type Installation = typeof larkInstallation.$inferSelect;

class ClaimLostError extends Error {}

/**
 * The ACK path for one delivery: claim, filter, identify, write the user's message and what follows
 * from it in one transaction, answer. No outbound HTTP happens here: replies are outbox rows.
 */
export async function dispatchInboundEvent(deps: DispatcherDeps, input: { appId: string; payload: Uint8Array | string }): Promise<DispatchResult> {
  const decoded = decodeInboundEvent(input.payload);
  const [installation] = await deps.db.select().from(larkInstallation).where(eq(larkInstallation.appId, input.appId));
  if (decoded.kind === 'ignore') {
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
  const message = decoded.message;
  const routing = { chatId: message.chatId, eventType: message.eventType, eventId: message.eventId, messageId: message.messageId };
  if (!installation || (message.appId && message.appId !== installation.appId)) {
    await recordInboundDrop(deps.db, { installationId: installation?.id ?? null, ...routing, reason: 'invalid_event' });
    return { ack: 200, result: { outcome: 'dropped', reason: 'invalid_event' } };
  }
  if (installation.status !== 'active') {
    await recordInboundDrop(deps.db, { installationId: installation.id, ...routing, reason: 'revoked_installation' });
    return { ack: 200, result: { outcome: 'dropped', reason: 'revoked_installation' } };
  }

  const abandonedToken = deps.abandoned?.take({ installationId: installation.id, messageId: message.messageId }) ?? null;
  const claimed = await claimInboundMessage(deps.db, { installationId: installation.id, messageId: message.messageId, abandonedToken });
  if ('processed' in claimed) return { ack: 200, result: { outcome: 'dropped', reason: 'duplicate' } };
  // Another worker holds a live claim: it may still fail, so Lark must keep the message.
  if ('inFlight' in claimed) return { ack: 500, result: { outcome: 'retry', error: 'being processed elsewhere' } };
  const claim = { installationId: installation.id, messageId: message.messageId, claimToken: claimed.claimed };
  const log = deps.logger.child({ installationId: installation.id, larkMessageId: message.messageId, larkEventId: message.eventId });
  if (claimed.attempts > MAX_DISPATCH_ATTEMPTS) {
    // The same message failed every time: a deterministic failure, not a blip. End it durably.
    log.error({ attempts: claimed.attempts }, 'inbound message failed on every attempt; recording it as dropped');
    return endWithDrop(deps, claim, { installationId: installation.id, ...routing, reason: 'dispatch_failed' });
  }

  const work = deps.db
    .transaction(async (tx) => {
      const result = await processClaimed(tx, deps, installation, message);
      // The durable outcome and the end of the claim commit together; a rotated or released claim rolls it all back.
      if ((await markInboundProcessed(tx, claim)) === 0) throw new ClaimLostError();
      return result;
    })
    .then(
      (outcome): DispatchResult => ({ ack: 200, result: outcome }),
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
      // Releasing makes the late transaction's mark match nothing, so it rolls back; Lark redelivers.
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

/** Gives a claim back; when even that fails, remembers it so this process's next redelivery re-takes it. */
async function releaseClaim(deps: DispatcherDeps, claim: { installationId: string; messageId: string; claimToken: string }): Promise<void> {
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
  claim: { installationId: string; messageId: string; claimToken: string },
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

async function processClaimed(tx: Tx, deps: DispatcherDeps, installation: Installation, message: InboundMessage): Promise<DispatchOutcome> {
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
  // One round trip for everything the pipeline needs to know: who is writing, whether they are
  // still a member, the names for replies, and the chat's session if it has one.
  const context = await tx.execute<{
    agent_name: string;
    workspace_name: string;
    slug: string;
    user_id: string | null;
    member_user_id: string | null;
    sender_name: string | null;
    session_id: string | null;
  }>(sql`
    SELECT a.name AS agent_name, w.name AS workspace_name, w.slug, b.user_id, m.user_id AS member_user_id, u.name AS sender_name,
           s.chat_session_id AS session_id
    FROM agent a
    JOIN workspace w ON w.id = a.workspace_id
    LEFT JOIN lark_user_binding b ON b.installation_id = ${installation.id} AND b.lark_open_id = ${senderOpenId}
    LEFT JOIN member m ON m.workspace_id = b.workspace_id AND m.user_id = b.user_id
    LEFT JOIN "user" u ON u.id = b.user_id
    LEFT JOIN lark_chat_session_binding s ON s.installation_id = ${installation.id} AND s.lark_chat_id = ${message.chatId}
    WHERE a.id = ${installation.agentId} AND a.workspace_id = ${installation.workspaceId}`);
  const row = context.rows[0];
  if (!row) return drop('invalid_event');
  const names = { agentName: row.agent_name, workspaceName: row.workspace_name, slug: row.slug };
  const identity = row.user_id ? { userId: row.user_id, memberUserId: row.member_user_id, name: row.sender_name } : null;
  const outbox = (target: OutboxTarget, body: OutboxBody, larkOpenId?: string) =>
    enqueueOutboxMessage(tx, deps.jobs, { workspaceId: installation.workspaceId, installationId: installation.id, target, body, larkOpenId });

  if (!identity) {
    // Their words are not stored; the audit keeps that it happened (routing data only).
    await recordInboundDrop(tx, { installationId: installation.id, chatId: message.chatId, eventType: message.eventType, eventId: message.eventId, messageId: message.messageId, reason: 'unbound_user' });
    if (!(await hasLiveBindingPrompt(tx, { installationId: installation.id, larkOpenId: senderOpenId }))) {
      await outbox({ receiveIdType: 'open_id', receiveId: senderOpenId }, { kind: 'binding_prompt', agentName: names.agentName, workspaceName: names.workspaceName }, senderOpenId);
    }
    return { outcome: 'needs_binding' };
  }
  if (!identity.memberUserId) return drop('non_workspace_member');

  const sessionId = row.session_id ?? (await createChatSessionForChat(tx, installation, message, identity.userId, identity.name, names.agentName));
  const content = rewriteMentionsForAgent(message.text, message.mentions, bot).slice(0, MAX_MESSAGE_CHARS);
  const chatMsg = await appendUserMessage(tx, { workspaceId: installation.workspaceId, sessionId, authorUserId: identity.userId, content }, { touchSession: false });
  await tx.insert(larkInboundMessage).values({
    chatMessageId: chatMsg.id,
    workspaceId: installation.workspaceId,
    installationId: installation.id,
    larkMessageId: message.messageId,
    larkChatId: message.chatId,
    larkThreadId: message.threadId,
    larkRootId: message.rootId,
    senderOpenId,
  });
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
        await outbox(target, { kind: 'issue_usage' });
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
      await outbox(target, { kind: 'issue_created', identifier: created.identifier, title: created.title, url: `${appUrl}/w/${names.slug}/issues/${created.id}` });
      return { outcome: 'issue_created', chatMessageId: chatMsg.id, issueId: created.id, identifier: created.identifier };
    }

    const enqueued = await enqueueAgentTask(tx, { workspaceId: installation.workspaceId, sessionId, triggerMessageId: chatMsg.id });
    if (enqueued.outcome === 'enqueued') return { outcome: 'ingested', chatMessageId: chatMsg.id, taskId: enqueued.task.id };
    await outbox(target, { kind: enqueued.outcome, agentName: enqueued.agentName });
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
 * Creates the session of a chat seen for the first time. One session per (installation, chat) even
 * when two events race: the binding's unique key decides, and the loser rolls back its own session
 * (a savepoint) and uses the winner's.
 */
async function createChatSessionForChat(
  tx: Tx,
  installation: Installation,
  message: InboundMessage,
  senderUserId: string,
  senderName: string | null,
  agentName: string,
): Promise<string> {
  // A DM belongs to the person writing; a group session to the installer, a stable workspace identity.
  const creator = message.chatType === 'p2p' ? senderUserId : installation.installerUserId;
  const title = message.chatType === 'p2p' ? `Lark: ${senderName ?? 'direct message'} and ${agentName}` : `Lark group chat with ${agentName}`;
  try {
    return await tx.transaction(async (sp) => {
      const [session] = await sp
        .insert(chatSession)
        .values({ workspaceId: installation.workspaceId, agentId: installation.agentId, creatorUserId: creator, channel: 'lark', title: title.slice(0, 200) })
        .returning({ id: chatSession.id });
      await sp.insert(larkChatSessionBinding).values({
        chatSessionId: session.id,
        workspaceId: installation.workspaceId,
        installationId: installation.id,
        larkChatId: message.chatId,
        larkChatType: message.chatType,
      });
      return session.id;
    });
  } catch (err) {
    if (!isUniqueViolation(err, 'lark_chat_session_binding_chat_unique')) throw err;
    const [winner] = await tx
      .select({ id: larkChatSessionBinding.chatSessionId })
      .from(larkChatSessionBinding)
      .where(and(eq(larkChatSessionBinding.installationId, installation.id), eq(larkChatSessionBinding.larkChatId, message.chatId)));
    if (!winner) throw err;
    return winner.id;
  }
}
