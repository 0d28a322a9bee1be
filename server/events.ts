import { sql } from 'drizzle-orm';
import type { WorkspaceEvent } from './contract/events';
import type { DbOrTx } from './db/client';

/** Channel carrying workspace-scoped change notices to every web replica (for live UI updates). */
export const WORKSPACE_EVENTS_CHANNEL = 'larkspur_workspace_events';
/** Channel that wakes workers when a task is queued. */
export const TASK_QUEUED_CHANNEL = 'larkspur_task_queued';
/** Wakes the hub: an installation was installed, revoked or had its credentials rotated (payload: id). */
export const LARK_INSTALLATION_CHANNEL = 'larkspur_lark_installation';
/** Wakes the registration poller: a device-flow session was started (payload: session id). */
export const LARK_REGISTRATION_CHANNEL = 'larkspur_lark_registration';

export type WorkspaceEventEnvelope = WorkspaceEvent & { workspace_id: string };

/**
 * Queues a notice; Postgres delivers it when the surrounding transaction commits, so listeners
 * never see an event for a write that rolled back. Payloads carry ids only (NOTIFY caps at 8 KB).
 */
export async function emitWorkspaceEvent(tx: DbOrTx, workspaceId: string, event: WorkspaceEvent): Promise<void> {
  const payload: WorkspaceEventEnvelope = { ...event, workspace_id: workspaceId };
  await tx.execute(sql`SELECT pg_notify(${WORKSPACE_EVENTS_CHANNEL}, ${JSON.stringify(payload)})`);
}

/** A plain NOTIFY, delivered on commit like the workspace events. */
export async function notify(tx: DbOrTx, channel: string, payload: string): Promise<void> {
  await tx.execute(sql`SELECT pg_notify(${channel}, ${payload})`);
}
