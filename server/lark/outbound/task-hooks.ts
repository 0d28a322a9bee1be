import { and, eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import { agent, chatMessage, larkChatSessionBinding, larkInboundMessage, larkInstallation, user } from '../../db/schema';
import type { JobEnqueuer } from '../../jobs/queue';
import { taskReference, type AgentTask } from '../../services/tasks';
import { enqueueOutboxMessage, type OutboxBody, type OutboxTarget } from './outbox';
import { replyTargetFor } from './reply-target';

export type TaskHooks = {
  afterComplete(tx: DbOrTx, task: AgentTask, message: typeof chatMessage.$inferSelect | null): Promise<void>;
  afterFail(tx: DbOrTx, task: AgentTask): Promise<void>;
};

/** Where a task's answer goes in Lark, or null when its session is not a Lark chat (or the bot is gone). */
async function larkTargetFor(tx: DbOrTx, task: AgentTask): Promise<{ installationId: string; target: OutboxTarget } | null> {
  const [binding] = await tx
    .select({ installationId: larkChatSessionBinding.installationId, chatId: larkChatSessionBinding.larkChatId, status: larkInstallation.status })
    .from(larkChatSessionBinding)
    .innerJoin(larkInstallation, eq(larkInstallation.id, larkChatSessionBinding.installationId))
    .where(and(eq(larkChatSessionBinding.chatSessionId, task.sessionId), eq(larkChatSessionBinding.workspaceId, task.workspaceId)));
  if (!binding || binding.status !== 'active') return null;
  const [origin] = await tx
    .select({ messageId: larkInboundMessage.larkMessageId, threadId: larkInboundMessage.larkThreadId, rootId: larkInboundMessage.larkRootId })
    .from(larkInboundMessage)
    .where(eq(larkInboundMessage.chatMessageId, task.triggerMessageId));
  return { installationId: binding.installationId, target: replyTargetFor(binding.chatId, origin ?? null) };
}

/** The Lark side of finishing a task: its reply (or an error card) joins the same transaction as an outbox row. */
export function larkTaskHooks(jobs: JobEnqueuer): TaskHooks {
  const enqueue = async (tx: DbOrTx, task: AgentTask, body: OutboxBody) => {
    const where = await larkTargetFor(tx, task);
    if (!where) return;
    await enqueueOutboxMessage(tx, jobs, { workspaceId: task.workspaceId, installationId: where.installationId, target: where.target, body });
  };
  return {
    async afterComplete(tx, task, message) {
      if (!message || message.content.trim().length === 0) return;
      await enqueue(tx, task, { kind: 'agent_reply', text: message.content });
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
