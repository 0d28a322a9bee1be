import { and, eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import { inTransaction } from '../../db/transaction';
import { larkInstallation, larkRegistrationSession, type MemberRole } from '../../db/schema';
import { AppError, conflict, forbidden } from '../../errors';
import { emitWorkspaceEvent, LARK_REGISTRATION_CHANNEL, notify } from '../../events';
import { getAgentOrThrow } from '../../services/agents';
import { hasRole } from '../../auth/roles';
import { accountsBaseUrlFor, beginRegistration, decorateQrUrl, type FetchLike, type LarkRegion } from '../api';
import { larkIntegration, type LarkIntegration } from '../integration';
import { logger } from '../../logger';

/** Who may bind an agent to Lark: workspace owners and admins, and the agent's owner. */
export function canManageAgentInstall(actor: { userId: string; role: MemberRole }, agentOwnerUserId: string): boolean {
  return hasRole(actor.role, 'admin') || actor.userId === agentOwnerUserId;
}

export function requireConfigured(integration: LarkIntegration): asserts integration is LarkIntegration & { box: NonNullable<LarkIntegration['box']> } {
  if (!integration.configured || !integration.box) {
    throw new AppError('not_configured', 'The Lark integration is not configured on this server (LARK_SECRET_KEY is not set)');
  }
}

/**
 * The QR and its link are opened by users, so only https, or plain http from the accounts host the
 * operator configured that way (a local simulator; production needs LARK_ALLOW_INSECURE_HOSTS).
 */
export function isOpenableQrUrl(qrUrl: string, accountsBaseUrl: string): boolean {
  const url = new URL(qrUrl);
  return url.protocol === 'https:' || (url.protocol === 'http:' && url.origin === new URL(accountsBaseUrl).origin);
}

/**
 * Starts a device-flow registration: asks Lark for a device code, stores the session (device code
 * encrypted) and wakes the worker's poller. The browser then shows the QR and polls the status.
 */
export async function beginInstall(
  db: DbOrTx,
  input: { workspaceId: string; agentId: string; region: LarkRegion; actor: { userId: string; role: MemberRole } },
  deps: { integration?: LarkIntegration; fetch?: FetchLike } = {},
) {
  const integration = deps.integration ?? larkIntegration();
  const agent = await getAgentOrThrow(db, { workspaceId: input.workspaceId, agentId: input.agentId });
  if (!canManageAgentInstall(input.actor, agent.ownerUserId)) throw forbidden('Only workspace owners and admins, or the agent owner, can bind an agent to Lark');
  requireConfigured(integration);
  if (agent.archivedAt) throw new AppError('agent_archived', `${agent.name} is archived`);
  const [active] = await db
    .select({ id: larkInstallation.id })
    .from(larkInstallation)
    .where(and(eq(larkInstallation.workspaceId, input.workspaceId), eq(larkInstallation.agentId, input.agentId), eq(larkInstallation.status, 'active')));
  if (active) throw conflict(`${agent.name} is already connected to a Lark bot; disconnect it first`);

  let begun;
  try {
    begun = await beginRegistration(input.region, { hosts: integration.hosts, fetch: deps.fetch, requestTimeoutMs: integration.httpTimeoutMs });
  } catch (err) {
    logger().warn({ err, region: input.region }, 'starting a Lark registration failed');
    const host = new URL(accountsBaseUrlFor(input.region, integration.hosts)).host;
    throw new AppError('upstream_unavailable', `Could not start the registration with Lark (${host} did not answer as expected); try again`);
  }
  const qrCodeUrl = decorateQrUrl(begun.verificationUriComplete, agent.name);
  if (!isOpenableQrUrl(qrCodeUrl, accountsBaseUrlFor(input.region, integration.hosts))) {
    logger().warn({ region: input.region, scheme: new URL(qrCodeUrl).protocol }, 'Lark answered a verification link we will not show');
    throw new AppError('upstream_unavailable', 'Lark answered with a sign-in link that cannot be shown; try again');
  }
  const session = await inTransaction(db, async (tx) => {
    const [row] = await tx
      .insert(larkRegistrationSession)
      .values({
        workspaceId: input.workspaceId,
        agentId: input.agentId,
        initiatorUserId: input.actor.userId,
        region: input.region,
        deviceCodeCiphertext: integration.box.seal(begun.deviceCode),
        qrCodeUrl,
        intervalSeconds: begun.intervalSeconds,
        expiresAt: new Date(Date.now() + begun.expiresInSeconds * 1000),
      })
      .returning();
    await notify(tx, LARK_REGISTRATION_CHANNEL, row.id);
    await emitWorkspaceEvent(tx, input.workspaceId, { type: 'lark.registration.changed', session_id: row.id });
    return row;
  });
  return {
    session_id: session.id,
    qr_code_url: qrCodeUrl,
    expires_in_seconds: begun.expiresInSeconds,
    poll_interval_seconds: begun.intervalSeconds,
  };
}
