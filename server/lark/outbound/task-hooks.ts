import { eq, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import { agent, chatMessage, user } from '../../db/schema';
import { executePrepared } from '../../db/prepared';
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
async function larkTargetFor(db: DbOrTx, task: AgentTask): Promise<{ installationId: string; target: OutboxTarget } | null> {
  const res = await executePrepared<{ installation_id: string; chat_id: string; status: string; message_id: string | null; thread_id: string | null; root_id: string | null }>(
    db,
    sql`SELECT b.installation_id, b.lark_chat_id AS chat_id, i.status, m.lark_message_id AS message_id, m.lark_thread_id AS thread_id, m.lark_root_id AS root_id
        FROM lark_chat_session_binding b
        JOIN lark_installation i ON i.id = b.installation_id
        LEFT JOIN lark_inbound_message m ON m.chat_message_id = ${task.triggerMessageId}::uuid
        WHERE b.chat_session_id = ${task.sessionId}::uuid AND b.workspace_id = ${task.workspaceId}::uuid`,
  );
  const binding = res.rows[0];
  if (!binding || binding.status !== 'active') return null;
  const origin = binding.message_id ? { messageId: binding.message_id, threadId: binding.thread_id, rootId: binding.root_id } : null;
  return { installationId: binding.installation_id, target: replyTargetFor(binding.chat_id, origin) };
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
