import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import { agent, chatMessage, larkChatSessionBinding, larkInboundMessage, larkInstallation, user } from '../../db/schema';
import { taskReference, type AgentTask } from '../../services/tasks';
import { enqueueOutboxMessage, OUTBOX_COLUMNS, outboxRowValues, type OutboxBody, type OutboxTarget } from './outbox';
import { replyTargetFor } from './reply-target';

export type TaskHooks = {
  /**
   * Read before an answer is stored: what to write with it, as a data-modifying CTE body for the
   * statement that stores it (it may read `message`, the stored answer), or null.
   */
  answerWrite(db: DbOrTx, task: AgentTask, reply: string): Promise<SQL | null>;
  /** Writes that commit with a task's failure. */
  afterFail(tx: DbOrTx, task: AgentTask): Promise<void>;
};

/** Where a task's answer goes in Lark (one lookup), or null when its session is not a Lark chat (or the bot is gone). */
async function larkTargetFor(tx: DbOrTx, task: AgentTask): Promise<{ installationId: string; target: OutboxTarget } | null> {
  const [binding] = await tx
    .select({
      installationId: larkChatSessionBinding.installationId,
      chatId: larkChatSessionBinding.larkChatId,
      status: larkInstallation.status,
      messageId: larkInboundMessage.larkMessageId,
      threadId: larkInboundMessage.larkThreadId,
      rootId: larkInboundMessage.larkRootId,
    })
    .from(larkChatSessionBinding)
    .innerJoin(larkInstallation, eq(larkInstallation.id, larkChatSessionBinding.installationId))
    .leftJoin(larkInboundMessage, eq(larkInboundMessage.chatMessageId, task.triggerMessageId))
    .where(and(eq(larkChatSessionBinding.chatSessionId, task.sessionId), eq(larkChatSessionBinding.workspaceId, task.workspaceId)));
  if (!binding || binding.status !== 'active') return null;
  const origin = binding.messageId ? { messageId: binding.messageId, threadId: binding.threadId, rootId: binding.rootId } : null;
  return { installationId: binding.installationId, target: replyTargetFor(binding.chatId, origin) };
}

/** The Lark side of finishing a task: its reply (or an error card) joins the same transaction as an outbox row. */
export function larkTaskHooks(): TaskHooks {
  const enqueue = async (tx: DbOrTx, task: AgentTask, body: OutboxBody) => {
    const where = await larkTargetFor(tx, task);
    if (!where) return;
    await enqueueOutboxMessage(tx, { workspaceId: task.workspaceId, installationId: where.installationId, target: where.target, body });
  };
  return {
    async answerWrite(db, task, reply) {
      if (reply.trim().length === 0) return null;
      const where = await larkTargetFor(db, task);
      if (!where) return null;
      const row = { workspaceId: task.workspaceId, installationId: where.installationId, target: where.target, body: { kind: 'agent_reply' as const, text: reply } };
      // Only with the stored answer, and only while the bot is still connected.
      return sql`INSERT INTO ${OUTBOX_COLUMNS} SELECT * FROM (VALUES ${outboxRowValues(row)}) AS v
        WHERE EXISTS (SELECT 1 FROM message)
          AND EXISTS (SELECT 1 FROM lark_installation WHERE id = ${where.installationId} AND workspace_id = ${task.workspaceId} AND status = 'active')
        RETURNING id`;
    },
    async afterFail(tx, task) {
      const [a] = await tx.select({ name: agent.name }).from(agent).where(eq(agent.id, task.agentId));
      // The asker's language, when their Lark identity is linked to an account that chose one.
      const [asker] = await tx
        .select({ locale: user.locale })
        .from(chatMessage)
        .innerJoin(user, eq(user.id, chatMessage.authorUserId))
        .where(eq(chatMessage.id, task.triggerMessageId));
      await enqueue(tx, task, { kind: 'agent_error', agentName: a?.name ?? 'The agent', reference: taskReference(task.id), locale: asker?.locale ?? null });
    },
  };
}
