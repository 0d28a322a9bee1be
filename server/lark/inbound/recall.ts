import { sql } from 'drizzle-orm';
import type { Tx } from '../../db/client';
import { emitWorkspaceEvent } from '../../events';
import { cancelTask } from '../../services/tasks';
import { enqueueOutboxMessage } from '../outbound/outbox';
import type { DispatchInstallation } from './dispatcher';

/** How long a retraction waits for a running answer to stop and hand over its cards. */
const RETRACT_HANDOVER_SECONDS = 3;

/**
 * A Lark message was recalled. When it was a question this bot stored: its content is cleared and
 * it shows as recalled in the web chat, its queued or running run is cancelled, and whatever the bot
 * answered (a streaming card, a sent answer, an error card) is taken back from Lark through the
 * outbox. 'unknown' when the bot knows nothing of the message. Runs in the dispatcher's
 * transaction, which also ends the event's claim.
 */
export async function handleRecall(tx: Tx, input: { installation: DispatchInstallation; messageId: string; chatId: string }): Promise<'recalled' | 'unknown'> {
  const ws = input.installation.workspaceId;
  const res = await tx.execute<{ chat_message_id: string; session_id: string }>(sql`
    WITH question AS (
      UPDATE lark_inbound_message SET recalled_at = now()
      WHERE installation_id = ${input.installation.id}::uuid AND workspace_id = ${ws}::uuid AND lark_message_id = ${input.messageId} AND recalled_at IS NULL
      RETURNING chat_message_id
    )
    UPDATE chat_message m SET recalled_at = now(), content = ''
    FROM question q WHERE m.id = q.chat_message_id AND m.workspace_id = ${ws}::uuid
    RETURNING m.id AS chat_message_id, m.session_id`);
  const question = res.rows[0];
  if (!question) return 'unknown';
  await emitWorkspaceEvent(tx, ws, { type: 'chat.message.updated', session_id: question.session_id, message_id: question.chat_message_id });

  const tasks = await tx.execute<{ id: string; status: string }>(sql`
    SELECT id, status FROM agent_task WHERE workspace_id = ${ws}::uuid AND trigger_message_id = ${question.chat_message_id}::uuid ORDER BY seq`);
  for (const task of tasks.rows) {
    const cancelled = task.status === 'queued' || task.status === 'running' ? await cancelTask(tx, { workspaceId: ws, taskId: task.id, reason: 'recalled' }) : null;
    // A run still queued has nothing in Lark to take back.
    if (cancelled?.previousStatus === 'queued') continue;
    await enqueueOutboxMessage(tx, {
      workspaceId: ws,
      installationId: input.installation.id,
      target: { receiveIdType: 'chat_id', receiveId: input.chatId },
      body: { kind: 'retract_answer', taskId: task.id, questionMessageId: input.messageId },
      taskId: task.id,
      delaySeconds: cancelled ? RETRACT_HANDOVER_SECONDS : 0,
    });
  }
  return 'recalled';
}
