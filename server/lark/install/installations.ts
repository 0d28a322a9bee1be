import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { inTransaction } from '../../db/transaction';
import type { DbOrTx } from '../../db/client';
import { agent, larkInboundAudit, larkInstallation, larkRegistrationSession, type MemberRole } from '../../db/schema';
import { forbidden, notFound } from '../../errors';
import { emitWorkspaceEvent, LARK_INSTALLATION_CHANNEL, notify } from '../../events';
import { hasRole } from '../../auth/roles';
import { canManageAgentInstall } from './begin-install';
import type { LarkIntegration } from '../integration';

/** A session's status for its initiator or a workspace owner/admin; anyone else gets not found. */
export async function getInstallStatus(db: DbOrTx, input: { workspaceId: string; sessionId: string; actor: { userId: string; role: MemberRole } }) {
  const [s] = await db
    .select()
    .from(larkRegistrationSession)
    .where(and(eq(larkRegistrationSession.workspaceId, input.workspaceId), eq(larkRegistrationSession.id, input.sessionId)));
  if (!s || (s.initiatorUserId !== input.actor.userId && !hasRole(input.actor.role, 'admin'))) throw notFound('Install session');
  return {
    status: s.status,
    ...(s.installationId && s.status === 'success' && { installation_id: s.installationId }),
    ...(s.status === 'error' && { error_reason: s.errorReason, error_message: s.errorMessage }),
  };
}

export async function listInstallations(db: DbOrTx, workspaceId: string) {
  const rows = await db
    .select({ installation: larkInstallation, agentName: agent.name, agentColor: agent.avatarColor, agentOwner: agent.ownerUserId })
    .from(larkInstallation)
    .innerJoin(agent, and(eq(agent.id, larkInstallation.agentId), eq(agent.workspaceId, larkInstallation.workspaceId)))
    .where(eq(larkInstallation.workspaceId, workspaceId))
    .orderBy(asc(larkInstallation.createdAt));
  // The latest message Lark refused, per bot: what an admin needs to see when a bot goes quiet.
  const failures = await db.execute<{ installation_id: string; last_error_code: number | null; last_error: string; created_at: string }>(sql`
    SELECT DISTINCT ON (installation_id) installation_id, last_error_code, last_error, created_at
    FROM lark_outbox WHERE workspace_id = ${workspaceId} AND status = 'failed'
    ORDER BY installation_id, created_at DESC`);
  const byInstallation = new Map(failures.rows.map((f) => [f.installation_id, f]));
  return rows.map((r) => {
    const f = byInstallation.get(r.installation.id);
    return { ...r, lastDeliveryError: f ? { code: f.last_error_code, message: f.last_error, at: new Date(f.created_at) } : null };
  });
}

/** Recent dropped events of one installation, for admins: routing data and the reason, never content. */
export async function listInboundDrops(db: DbOrTx, input: { workspaceId: string; installationId: string; limit?: number }) {
  const [inst] = await db
    .select({ id: larkInstallation.id })
    .from(larkInstallation)
    .where(and(eq(larkInstallation.workspaceId, input.workspaceId), eq(larkInstallation.id, input.installationId)));
  if (!inst) throw notFound('Installation');
  const rows = await db
    .select()
    .from(larkInboundAudit)
    .where(eq(larkInboundAudit.installationId, input.installationId))
    .orderBy(desc(larkInboundAudit.receivedAt))
    .limit(input.limit ?? 50);
  return rows.map((r) => ({ reason: r.dropReason, chat_id: r.larkChatId, event_type: r.eventType, received_at: r.receivedAt }));
}

/** The listing's view: identity and health only, never secrets or lease tokens. */
export function installationView(row: Awaited<ReturnType<typeof listInstallations>>[number], viewer: { userId: string; role: MemberRole }) {
  const i = row.installation;
  return {
    can_manage: canManageAgentInstall(viewer, row.agentOwner),
    id: i.id,
    agent_id: i.agentId,
    agent: { name: row.agentName, avatar: row.agentColor },
    app_id: i.appId,
    region: i.region,
    status: i.status,
    installed_at: i.installedAt,
    connection: { state: i.status === 'active' ? i.connectionState : 'disconnected', last_event_at: i.lastEventAt },
    last_delivery_error: row.lastDeliveryError,
  };
}

export function installationsResponse(
  integration: LarkIntegration,
  rows: Awaited<ReturnType<typeof listInstallations>>,
  viewer: { userId: string; role: MemberRole },
) {
  return { configured: integration.configured, install_supported: integration.configured, installations: rows.map((r) => installationView(r, viewer)) };
}

/**
 * Disconnects a bot: the row is kept as revoked (history stays attributable) and the hub is told
 * to drop the connection now rather than at its next sweep.
 */
export async function revokeInstallation(db: DbOrTx, input: { workspaceId: string; installationId: string; actor: { userId: string; role: MemberRole } }) {
  await inTransaction(db, async (tx) => {
    const [row] = await tx
      .select({ installation: larkInstallation, agentOwner: agent.ownerUserId })
      .from(larkInstallation)
      .innerJoin(agent, and(eq(agent.id, larkInstallation.agentId), eq(agent.workspaceId, larkInstallation.workspaceId)))
      .where(and(eq(larkInstallation.workspaceId, input.workspaceId), eq(larkInstallation.id, input.installationId)))
      .for('update', { of: larkInstallation });
    if (!row) throw notFound('Installation');
    if (!canManageAgentInstall(input.actor, row.agentOwner)) throw forbidden('Only workspace owners and admins, or the agent owner, can disconnect this bot');
    if (row.installation.status === 'revoked') return;
    await tx
      .update(larkInstallation)
      .set({ status: 'revoked', revokedAt: new Date(), updatedAt: new Date() })
      .where(eq(larkInstallation.id, input.installationId));
    await notify(tx, LARK_INSTALLATION_CHANNEL, input.installationId);
    await emitWorkspaceEvent(tx, input.workspaceId, { type: 'lark.installations.changed' });
  });
}
