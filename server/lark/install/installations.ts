import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { inTransaction } from '../../db/transaction';
import type { DbOrTx } from '../../db/client';
import { agent, larkChat, larkInboundAudit, larkInstallation, larkRegistrationSession, type MemberRole } from '../../db/schema';
import { forbidden, notFound } from '../../errors';
import { emitWorkspaceEvent, LARK_INSTALLATION_CHANNEL, notify } from '../../events';
import { hasRole } from '../../auth/roles';
import { canManageAgentInstall } from './begin-install';
import type { LarkIntegration } from '../integration';
import { consoleUrlFor, type LarkHostOverrides } from '../api';
import { encodeLarkDropsCursor, type LarkDropsCursor } from '../../contract/lark';

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
    .select({
      installation: larkInstallation,
      agentName: agent.name,
      agentColor: agent.avatarColor,
      agentOwner: agent.ownerUserId,
      // The recorded state is only as fresh as the lease: a worker that crashed or lost it stops renewing.
      leaseLive: sql<boolean>`(${larkInstallation.wsLeaseExpiresAt} IS NOT NULL AND ${larkInstallation.wsLeaseExpiresAt} > now())`,
    })
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

/**
 * Dropped events of one installation for admins, newest first: routing data and the reason, never
 * content. Keyset paging on (received_at, id), so rows arriving meanwhile neither repeat nor skip
 * anything on the pages that follow.
 */
export async function listInboundDrops(db: DbOrTx, input: { workspaceId: string; installationId: string; limit: number; before?: LarkDropsCursor }) {
  const [inst] = await db
    .select({ id: larkInstallation.id })
    .from(larkInstallation)
    .where(and(eq(larkInstallation.workspaceId, input.workspaceId), eq(larkInstallation.id, input.installationId)));
  if (!inst) throw notFound('Installation');
  const micros = sql<string>`(extract(epoch from ${larkInboundAudit.receivedAt}) * 1000000)::bigint::text`;
  const rows = await db
    .select({
      id: larkInboundAudit.id,
      reason: larkInboundAudit.dropReason,
      chatId: larkInboundAudit.larkChatId,
      chatName: larkChat.name,
      eventType: larkInboundAudit.eventType,
      receivedAt: larkInboundAudit.receivedAt,
      micros,
    })
    .from(larkInboundAudit)
    // The chat's name when the bot learned it: easier to recognize than its id.
    .leftJoin(larkChat, and(eq(larkChat.installationId, larkInboundAudit.installationId), eq(larkChat.larkChatId, larkInboundAudit.larkChatId)))
    .where(
      and(
        eq(larkInboundAudit.installationId, input.installationId),
        input.before
          ? sql`(${larkInboundAudit.receivedAt}, ${larkInboundAudit.id}) < (timestamptz 'epoch' + ${input.before.receivedAtMicros}::bigint * interval '1 microsecond', ${input.before.id}::bigint)`
          : undefined,
      ),
    )
    .orderBy(desc(larkInboundAudit.receivedAt), desc(larkInboundAudit.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  return {
    drops: page.map((r) => ({ reason: r.reason, chat_id: r.chatId, chat_name: r.chatName, event_type: r.eventType, received_at: r.receivedAt })),
    next_cursor: rows.length > input.limit && last ? encodeLarkDropsCursor({ receivedAtMicros: last.micros, id: String(last.id) }) : null,
  };
}

/** The listing's view: identity and health only, never secrets or lease tokens. */
export function installationView(
  row: Awaited<ReturnType<typeof listInstallations>>[number],
  viewer: { userId: string; role: MemberRole },
  hosts: LarkHostOverrides = {},
) {
  const i = row.installation;
  return {
    can_manage: canManageAgentInstall(viewer, row.agentOwner),
    id: i.id,
    agent_id: i.agentId,
    agent: { name: row.agentName, avatar: row.agentColor },
    app_id: i.appId,
    region: i.region,
    console_url: consoleUrlFor(i.region, i.appId, hosts),
    status: i.status,
    installed_at: i.installedAt,
    connection: { state: i.status === 'active' && row.leaseLive ? i.connectionState : 'disconnected', last_event_at: i.lastEventAt },
    last_delivery_error: row.lastDeliveryError,
  };
}

export function installationsResponse(
  integration: LarkIntegration,
  rows: Awaited<ReturnType<typeof listInstallations>>,
  viewer: { userId: string; role: MemberRole },
) {
  return { configured: integration.configured, install_supported: integration.configured, installations: rows.map((r) => installationView(r, viewer, integration.hosts)) };
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
