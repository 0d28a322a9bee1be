import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import { larkOutbox, type OutboxKind } from '../../db/schema';
import type { JobEnqueuer } from '../../jobs/queue';

export type OutboxTarget =
  | { receiveIdType: 'chat_id' | 'open_id'; receiveId: string }
  | { replyToMessageId: string; replyInThread: boolean };

export type OutboxBody =
  | { kind: 'agent_reply'; text: string }
  | { kind: 'agent_error'; agentName: string; reference: string; locale?: string | null }
  | { kind: 'binding_prompt'; agentName: string; workspaceName: string }
  | { kind: 'agent_offline'; agentName: string }
  | { kind: 'agent_archived'; agentName: string }
  | { kind: 'issue_created'; identifier: string; title: string; url: string }
  | { kind: 'issue_usage' };

/**
 * Writes a message to Lark into the outbox in the caller's transaction, with its delivery job, so
 * the message exists exactly when its cause does. Returns false when a binding prompt for this
 * user is already waiting (at most one live prompt per user).
 */
export async function enqueueOutboxMessage(
  tx: DbOrTx,
  jobs: JobEnqueuer,
  input: { workspaceId: string; installationId: string; target: OutboxTarget; body: OutboxBody; larkOpenId?: string },
): Promise<string | null> {
  const kind: OutboxKind = input.body.kind;
  const [row] = await tx
    .insert(larkOutbox)
    .values({
      workspaceId: input.workspaceId,
      installationId: input.installationId,
      kind,
      ...('receiveId' in input.target
        ? { receiveIdType: input.target.receiveIdType, receiveId: input.target.receiveId }
        : { replyToMessageId: input.target.replyToMessageId, replyInThread: input.target.replyInThread }),
      larkOpenId: input.larkOpenId ?? null,
      body: input.body,
    })
    .onConflictDoNothing()
    .returning({ id: larkOutbox.id });
  if (!row) return null;
  await jobs.enqueueOutbox(tx, row.id);
  return row.id;
}

/** Outbox rows by status, for the worker's gauges. */
export async function countOutboxByStatus(db: DbOrTx): Promise<Record<string, number>> {
  const res = await db.execute<{ status: string; n: number }>(sql`SELECT status, count(*)::int AS n FROM lark_outbox GROUP BY status`);
  return Object.fromEntries(res.rows.map((r) => [r.status, r.n]));
}
