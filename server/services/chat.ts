import { and, asc, count, desc, eq, gt, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { agent, agentTask, chatMessage, chatSession, larkChatSessionBinding, user, type MemberRole } from '../db/schema';
import { hasRole } from '../auth/roles';
import { agentContextSchema, type AgentContext } from '../contract/attachments';
import type { chatSessionSchema, messagesResponse, sendMessageResponse } from '../contract/chat';
import type { Payload } from '../contract/shared';
import { AppError, conflict, notFound } from '../errors';
import { emitWorkspaceEvent, workspaceEventNotice } from '../events';
import { enqueueOutboxMessage, type OutboxTarget } from '../lark/outbound/outbox';
import { THREAD_ANCHOR } from '../lark/outbound/task-hooks';
import { listMessageAttachments } from './attachments';
import { enqueueAgentTask, taskReference } from './tasks';
import { inTransaction } from '../db/transaction';
import { quotas } from '../env';

export type ChatSessionRow = typeof chatSession.$inferSelect;
export type ChatMessageRow = typeof chatMessage.$inferSelect;
export type ChatSessionWithCreator = {
  session: ChatSessionRow;
  creatorName: string;
  /** The Lark chat (and topic) a Lark session follows; null for web chats. */
  larkChatType?: 'p2p' | 'group' | null;
  larkThreadId?: string | null;
  larkClosedAt?: Date | null;
};

const sessionSelection = {
  session: chatSession,
  creatorName: user.name,
  larkChatType: larkChatSessionBinding.larkChatType,
  larkThreadId: larkChatSessionBinding.larkThreadId,
  larkClosedAt: larkChatSessionBinding.closedAt,
};

/**
 * Starts a web chat. Each user may start at most `maxPerHour` (MAX_CHAT_SESSIONS_PER_HOUR) per
 * workspace in any hour; Lark chats get their session from the dispatcher and are not counted.
 */
export async function createChatSession(
  db: DbOrTx,
  input: { workspaceId: string; creatorUserId: string; agentId: string; title?: string; maxPerHour?: number },
) {
  const maxPerHour = input.maxPerHour ?? quotas().MAX_CHAT_SESSIONS_PER_HOUR;
  return inTransaction(db, async (tx) => {
    const [a] = await tx
      .select({ name: agent.name, archivedAt: agent.archivedAt })
      .from(agent)
      .where(and(eq(agent.workspaceId, input.workspaceId), eq(agent.id, input.agentId)));
    if (!a) throw notFound('Agent');
    if (a.archivedAt) throw new AppError('agent_archived', `${a.name} is archived`);
    // Serializes one user's creations in this workspace, so concurrent requests cannot overshoot.
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('larkspur.chat-session-quota'), hashtext(${`${input.workspaceId}:${input.creatorUserId}`}))`);
    const hourAgo = sql`now() - interval '1 hour'`;
    const [recent] = await tx
      .select({ n: count() })
      .from(chatSession)
      .where(
        and(
          eq(chatSession.workspaceId, input.workspaceId),
          // updated_at >= created_at: this bound lets the (workspace_id, updated_at) index narrow the scan.
          gt(chatSession.updatedAt, hourAgo),
          gt(chatSession.createdAt, hourAgo),
          eq(chatSession.creatorUserId, input.creatorUserId),
          eq(chatSession.channel, 'web'),
        ),
      );
    if (recent.n >= maxPerHour) {
      throw new AppError('rate_limited', `You started ${recent.n} chats in this workspace in the last hour, the most allowed (${maxPerHour}). Continue an existing chat or try again later.`);
    }
    const [session] = await tx
      .insert(chatSession)
      .values({
        workspaceId: input.workspaceId,
        agentId: input.agentId,
        creatorUserId: input.creatorUserId,
        channel: 'web',
        title: input.title ?? `Chat with ${a.name}`,
      })
      .returning();
    return getChatSessionOrThrow(tx, { workspaceId: input.workspaceId, sessionId: session.id, viewerUserId: input.creatorUserId });
  });
}

/** Sessions are private to their creator. */
export async function listChatSessions(db: DbOrTx, input: { workspaceId: string; viewerUserId: string; agentId?: string }) {
  return selectOwnSessions(db, input, input.agentId ? eq(chatSession.agentId, input.agentId) : undefined)
    .orderBy(desc(chatSession.updatedAt))
    .limit(200);
}

/** The viewer's own sessions in a workspace (sessions are private to their creator). */
function selectOwnSessions(db: DbOrTx, input: { workspaceId: string; viewerUserId: string }, extra?: SQL) {
  return db
    .select(sessionSelection)
    .from(chatSession)
    .innerJoin(user, eq(user.id, chatSession.creatorUserId))
    // A Lark session's chat: each topic of a chat is a session (and a conversation in the list) of its own.
    .leftJoin(larkChatSessionBinding, and(eq(larkChatSessionBinding.chatSessionId, chatSession.id), eq(larkChatSessionBinding.workspaceId, chatSession.workspaceId)))
    .where(and(eq(chatSession.workspaceId, input.workspaceId), eq(chatSession.creatorUserId, input.viewerUserId), extra));
}

export async function getChatSessionOrThrow(db: DbOrTx, input: { workspaceId: string; sessionId: string; viewerUserId: string }) {
  const [row] = await selectOwnSessions(db, input, eq(chatSession.id, input.sessionId));
  if (!row) throw notFound('Chat session');
  return row;
}

export function sessionView(r: ChatSessionWithCreator): Payload<typeof chatSessionSchema> {
  const s = r.session;
  return {
    id: s.id,
    agent_id: s.agentId,
    title: s.title,
    channel: s.channel,
    creator: { id: s.creatorUserId, name: r.creatorName },
    created_at: s.createdAt,
    updated_at: s.updatedAt,
    lark: r.larkChatType ? { chat_type: r.larkChatType, topic: Boolean(r.larkThreadId), closed: r.larkClosedAt != null } : null,
  };
}

export async function listChatMessages(
  db: DbOrTx,
  input: { workspaceId: string; sessionId: string; viewerRole?: MemberRole },
): Promise<Payload<typeof messagesResponse>> {
  const seesDetails = input.viewerRole !== undefined && hasRole(input.viewerRole, 'admin');
  const messages = await db
    .select({ message: chatMessage, authorName: user.name })
    .from(chatMessage)
    .leftJoin(user, eq(user.id, chatMessage.authorUserId))
    .where(and(eq(chatMessage.workspaceId, input.workspaceId), eq(chatMessage.sessionId, input.sessionId)))
    .orderBy(asc(chatMessage.createdAt))
    .limit(1000);
  const tasks = await db
    .select()
    .from(agentTask)
    .where(and(eq(agentTask.workspaceId, input.workspaceId), eq(agentTask.sessionId, input.sessionId)))
    .orderBy(desc(agentTask.seq))
    .limit(20);
  // Most conversations have no attachments at all: their history costs no extra query.
  const withAttachments = messages.filter((m) => m.message.attachmentCount > 0).map((m) => m.message.id);
  const attachments = await listMessageAttachments(db, { workspaceId: input.workspaceId, messageIds: withAttachments });
  return {
    messages: messages.map((m) => ({
      id: m.message.id,
      role: m.message.role,
      content: m.message.content,
      recalled: m.message.recalledAt !== null,
      end_reason: m.message.endReason === 'stopped' ? ('stopped' as const) : null,
      author: m.message.authorUserId ? { id: m.message.authorUserId, name: m.authorName ?? '' } : null,
      attachments: attachments.get(m.message.id) ?? [],
      context: storedAgentContext(m.message.agentContext),
      created_at: m.message.createdAt,
    })),
    tasks: tasks.reverse().map((t) => ({
      id: t.id,
      status: t.status,
      error: t.error,
      error_detail: seesDetails ? t.errorDetail : null,
      reference: taskReference(t.id),
      trigger_message_id: t.triggerMessageId,
      created_at: t.createdAt,
    })),
  };
}

/** A question's stored context as the API shows it; a value of another shape is shown as none rather than failing the history. */
function storedAgentContext(value: unknown): AgentContext | null {
  if (value == null) return null;
  const parsed = agentContextSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** Appends a user's message to a session and touches the session, in the caller's transaction. */
export async function appendUserMessage(
  tx: DbOrTx,
  input: { workspaceId: string; sessionId: string; authorUserId: string; content: string },
  opts: { touchSession?: boolean } = {},
): Promise<ChatMessageRow> {
  const [message] = await tx
    .insert(chatMessage)
    .values({
      workspaceId: input.workspaceId,
      sessionId: input.sessionId,
      role: 'user',
      content: input.content,
      authorUserId: input.authorUserId,
    })
    .returning();
  if (opts.touchSession !== false) await touchChatSession(tx, input);
  await emitWorkspaceEvent(tx, input.workspaceId, { type: 'chat.message.created', session_id: input.sessionId, message_id: message.id });
  return message;
}

/**
 * Stores what the bot said in a Lark chat (a notice rather than an agent's answer) as an assistant
 * message of its session, announced like any other, in one statement. Timed by the clock rather than
 * the transaction, so it follows the user's message written earlier in the same transaction.
 */
export async function appendAssistantNotice(
  tx: DbOrTx,
  input: { workspaceId: string; sessionId: string; content: string },
  opts: { touchSession?: boolean } = {},
): Promise<string> {
  const ws = sql`${input.workspaceId}::uuid`;
  const session = sql`${input.sessionId}::uuid`;
  const res = await tx.execute<{ id: string }>(sql`
    WITH message AS (
      INSERT INTO chat_message (workspace_id, session_id, role, content, created_at)
      VALUES (${ws}, ${session}, 'assistant', ${input.content}, clock_timestamp())
      RETURNING id
    ), touched AS (
      UPDATE chat_session SET updated_at = now() WHERE workspace_id = ${ws} AND id = ${session} AND ${opts.touchSession !== false}::boolean
      RETURNING 1
    )
    SELECT m.id, ${workspaceEventNotice(ws, sql`json_build_object('type', 'chat.message.created', 'session_id', ${session}, 'message_id', m.id)`, session)} AS notified
    FROM message m`);
  return res.rows[0].id;
}

/**
 * Moves a session to the top of its list. It locks the session row until commit, so callers with
 * more work in the transaction do it last to keep one busy chat from serializing on the lock.
 */
export async function touchChatSession(tx: DbOrTx, input: { workspaceId: string; sessionId: string }): Promise<void> {
  await tx
    .update(chatSession)
    .set({ updatedAt: new Date() })
    .where(and(eq(chatSession.workspaceId, input.workspaceId), eq(chatSession.id, input.sessionId)));
}

/**
 * The web composer's send: message and task commit together. An archived agent refuses the message
 * outright; an agent without a runtime keeps the message and reports that it is offline.
 */
export async function sendChatMessage(
  db: DbOrTx,
  input: { workspaceId: string; sessionId: string; authorUserId: string; authorName: string; content: string },
): Promise<Payload<typeof sendMessageResponse>> {
  return inTransaction(db, async (tx) => {
    const session = await getChatSessionOrThrow(tx, { workspaceId: input.workspaceId, sessionId: input.sessionId, viewerUserId: input.authorUserId });
    // Its Lark chat goes on in a newer session; an answer here would land in that chat out of context.
    if (session.larkClosedAt) throw conflict('This conversation ended in Lark. Its chat continues in a new conversation.');
    const [a] = await tx
      .select({ name: agent.name, archivedAt: agent.archivedAt })
      .from(agent)
      .where(and(eq(agent.workspaceId, input.workspaceId), eq(agent.id, session.session.agentId)));
    if (!a || a.archivedAt) throw new AppError('agent_archived', `${a?.name ?? 'This agent'} is archived and cannot receive messages`);
    const message = await appendUserMessage(tx, input);
    const enqueued = await enqueueAgentTask(tx, { workspaceId: input.workspaceId, sessionId: input.sessionId, triggerMessageId: message.id });
    if (enqueued.outcome === 'agent_archived') throw new AppError('agent_archived', `${enqueued.agentName} is archived and cannot receive messages`);
    if (session.larkChatType) {
      await postWebQuestionToLark(tx, {
        workspaceId: input.workspaceId,
        sessionId: input.sessionId,
        authorName: input.authorName,
        text: input.content,
        taskId: enqueued.outcome === 'enqueued' ? enqueued.task.id : undefined,
      });
    }
    return {
      message: {
        id: message.id,
        role: message.role,
        content: message.content,
        author: { id: input.authorUserId, name: input.authorName },
        created_at: message.createdAt,
      },
      task: enqueued.outcome === 'enqueued' ? { id: enqueued.task.id, status: enqueued.task.status } : null,
      outcome: enqueued.outcome,
    };
  });
}

/**
 * A question typed in the web chat of a Lark session is posted to its Lark chat too, by the bot in
 * the member's name, so the people there see what the answer answers (the answer waits for it). It
 * goes where that answer goes: a topic's question under the topic's latest Lark message, in the
 * topic; any other to the chat. Nothing is posted while the bot is disconnected.
 */
async function postWebQuestionToLark(
  tx: DbOrTx,
  input: { workspaceId: string; sessionId: string; authorName: string; text: string; taskId?: string },
): Promise<void> {
  const res = await tx.execute<{ installation_id: string; chat_id: string; anchor: string | null }>(sql`
    SELECT b.installation_id, b.lark_chat_id AS chat_id,
      CASE WHEN b.lark_thread_id <> '' THEN (${THREAD_ANCHOR(sql`b.chat_session_id`, sql`b.workspace_id`)}) END AS anchor
    FROM lark_chat_session_binding b
    JOIN lark_installation i ON i.id = b.installation_id AND i.workspace_id = b.workspace_id AND i.status = 'active'
    WHERE b.chat_session_id = ${input.sessionId}::uuid AND b.workspace_id = ${input.workspaceId}::uuid`);
  const binding = res.rows[0];
  if (!binding) return;
  const target: OutboxTarget = binding.anchor
    ? { replyToMessageId: binding.anchor, replyInThread: true }
    : { receiveIdType: 'chat_id', receiveId: binding.chat_id };
  await enqueueOutboxMessage(tx, {
    workspaceId: input.workspaceId,
    installationId: binding.installation_id,
    target,
    body: { kind: 'web_question', authorName: input.authorName, text: input.text },
    taskId: input.taskId,
  });
}
