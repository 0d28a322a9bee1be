import { sql, type SQL } from 'drizzle-orm';
import type { WorkspaceEvent } from './contract/events';
import type { DbOrTx } from './db/client';

/** Channel carrying workspace-scoped change notices to every web replica (for live UI updates). */
export const WORKSPACE_EVENTS_CHANNEL = 'larkspur_workspace_events';
/** Channel that wakes workers when a task is queued. */
export const TASK_QUEUED_CHANNEL = 'larkspur_task_queued';
/** Tells the worker running a task that it was cancelled (Stop pressed, question recalled); payload: task id. */
export const TASK_CANCELLED_CHANNEL = 'larkspur_task_cancelled';
/** Wakes the hub: an installation was installed, revoked or had its credentials rotated (payload: id). */
export const LARK_INSTALLATION_CHANNEL = 'larkspur_lark_installation';
/** Wakes the registration poller: a device-flow session was started (payload: session id). */
export const LARK_REGISTRATION_CHANNEL = 'larkspur_lark_registration';

/**
 * `session_creator_id` rides along with events about a chat session: the one user who may read
 * that session (sessions are private to their creator), so every web replica can filter its
 * streams without a query per event. Null when the session is gone: then nobody gets the event.
 */
export type WorkspaceEventEnvelope = WorkspaceEvent & { workspace_id: string; session_creator_id?: string | null };

/** Events that name a chat session (not to be confused with install sessions). */
export function isChatSessionEvent(event: WorkspaceEvent): event is Extract<WorkspaceEvent, { type: 'chat.message.created' | 'chat.message.updated' | 'task.updated' | 'task.delta' }> {
  return event.type === 'chat.message.created' || event.type === 'chat.message.updated' || event.type === 'task.updated' || event.type === 'task.delta';
}

/**
 * Queues a notice; Postgres delivers it when the surrounding transaction commits, so listeners
 * never see an event for a write that rolled back. Payloads carry ids only (NOTIFY caps at 8 KB).
 */
export async function emitWorkspaceEvent(tx: DbOrTx, workspaceId: string, event: WorkspaceEvent): Promise<void> {
  const payload: WorkspaceEventEnvelope = { ...event, workspace_id: workspaceId };
  if (!isChatSessionEvent(event)) {
    await tx.execute(sql`SELECT pg_notify(${WORKSPACE_EVENTS_CHANNEL}, ${JSON.stringify(payload)})`);
    return;
  }
  // The creator is looked up in the same statement, scoped to the workspace.
  await tx.execute(sql`
    SELECT pg_notify(${WORKSPACE_EVENTS_CHANNEL}, (${JSON.stringify(payload)}::jsonb || jsonb_build_object('session_creator_id',
      (SELECT creator_user_id FROM chat_session WHERE id = ${event.session_id}::uuid AND workspace_id = ${workspaceId}::uuid)))::text)`);
}

/** A plain NOTIFY, delivered on commit like the workspace events. */
export async function notify(tx: DbOrTx, channel: string, payload: string): Promise<void> {
  await tx.execute(sql`SELECT pg_notify(${channel}, ${payload})`);
}

/**
 * The NOTIFY of one chat-session event as an SQL expression, for statements that write and announce
 * in one round trip. `event` is a json(b) expression with the event's fields (ids only); the
 * envelope adds the workspace and the session's creator, as emitWorkspaceEvent does.
 */
export function workspaceEventNotice(workspaceId: SQL, event: SQL, sessionId: SQL): SQL {
  return sql`pg_notify(${WORKSPACE_EVENTS_CHANNEL}, ((${event})::jsonb || jsonb_build_object('workspace_id', ${workspaceId},
    'session_creator_id', (SELECT creator_user_id FROM chat_session WHERE id = ${sessionId} AND workspace_id = ${workspaceId})))::text)`;
}
