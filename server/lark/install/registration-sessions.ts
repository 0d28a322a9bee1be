import { randomUUID } from 'node:crypto';
import { inTransaction } from '../../db/transaction';
import { and, eq, ne, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client';
import {
  agent,
  larkInstallation,
  larkRegistrationSession,
  larkUserBinding,
  workspace,
  type LarkRegion,
  type RegistrationErrorReason,
} from '../../db/schema';
import { isForeignKeyViolation } from '../../db/pg-errors';
import { emitWorkspaceEvent, LARK_INSTALLATION_CHANNEL, notify } from '../../events';

export type RegistrationSessionRow = typeof larkRegistrationSession.$inferSelect;

/** How long a poller may hold a session before another worker may take it over. */
export const POLLER_HOLD_SECONDS = 60;

/**
 * Takes due pending sessions for this poller. SKIP LOCKED plus the hold window means two workers
 * never talk to Lark about one session at the same time.
 */
export async function claimDueRegistrations(db: Db, input: { pollerToken: string; limit: number }): Promise<RegistrationSessionRow[]> {
  const res = await db.execute<{ id: string }>(sql`
    UPDATE lark_registration_session
    SET poller_token = ${input.pollerToken}, poller_until = now() + make_interval(secs => ${POLLER_HOLD_SECONDS}), updated_at = now()
    WHERE id IN (
      SELECT id FROM lark_registration_session
      WHERE status = 'pending' AND next_poll_at <= now() AND (poller_until IS NULL OR poller_until < now())
      ORDER BY next_poll_at
      LIMIT ${input.limit}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING id`);
  if (res.rows.length === 0) return [];
  const ids = res.rows.map((r) => r.id);
  const rows = await db.select().from(larkRegistrationSession).where(sql`${larkRegistrationSession.id} IN ${ids}`);
  return rows;
}

const heldBy = (session: RegistrationSessionRow) =>
  and(eq(larkRegistrationSession.id, session.id), eq(larkRegistrationSession.status, 'pending'), eq(larkRegistrationSession.pollerToken, session.pollerToken ?? ''));

/** Still pending: schedule the next poll and let go of the session. */
export async function schedulePoll(db: Db, session: RegistrationSessionRow, input: { intervalSeconds: number; region?: LarkRegion; brandSwitched?: boolean; delaySeconds?: number }) {
  await db
    .update(larkRegistrationSession)
    .set({
      intervalSeconds: input.intervalSeconds,
      nextPollAt: sql`now() + make_interval(secs => ${input.delaySeconds ?? input.intervalSeconds})`,
      ...(input.region && { region: input.region }),
      ...(input.brandSwitched !== undefined && { brandSwitched: input.brandSwitched }),
      pollerToken: null,
      pollerUntil: null,
      pollAttempts: sql`${larkRegistrationSession.pollAttempts} + 1`,
      updatedAt: new Date(),
    })
    .where(heldBy(session));
}

/** Ends a session with a stable reason code; false when another poller already ended it. */
export async function failRegistration(db: DbOrTx, session: RegistrationSessionRow, reason: RegistrationErrorReason, message: string): Promise<boolean> {
  const updated = await db
    .update(larkRegistrationSession)
    .set({ status: 'error', errorReason: reason, errorMessage: message.slice(0, 500), pollerToken: null, pollerUntil: null, updatedAt: new Date() })
    .where(heldBy(session))
    .returning({ id: larkRegistrationSession.id });
  if (updated.length > 0) await emitWorkspaceEvent(db, session.workspaceId, { type: 'lark.registration.changed', session_id: session.id });
  return updated.length > 0;
}

export class RegistrationFinishError extends Error {
  constructor(
    readonly reason: RegistrationErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export type FinishedBot = {
  appId: string;
  appSecretCiphertext: string;
  region: LarkRegion;
  botOpenId: string;
  botUnionId: string | null;
  installerOpenId: string | null;
};

/**
 * Success: in one transaction, upsert the installation (a re-install keeps the row id, rotates the
 * credentials and re-activates it), bind the installer, mark the session and notify the hub. Throws
 * RegistrationFinishError for conflicts the user must resolve; false when another poller won.
 */
export async function completeRegistration(db: DbOrTx, session: RegistrationSessionRow, bot: FinishedBot): Promise<string | false> {
  if (!bot.installerOpenId) throw new RegistrationFinishError('installer_bind_failed', 'Lark did not tell us who scanned the code, so the installer could not be bound');
  return inTransaction(db, async (tx) => {
    const [held] = await tx.select({ id: larkRegistrationSession.id }).from(larkRegistrationSession).where(heldBy(session)).for('update');
    if (!held) return false;

    const [elsewhere] = await tx
      .select({ id: larkInstallation.id, status: larkInstallation.status, agentName: agent.name, workspaceName: workspace.name })
      .from(larkInstallation)
      .innerJoin(agent, eq(agent.id, larkInstallation.agentId))
      .innerJoin(workspace, eq(workspace.id, larkInstallation.workspaceId))
      .where(and(eq(larkInstallation.appId, bot.appId), ne(larkInstallation.agentId, session.agentId)))
      .for('update', { of: larkInstallation });
    if (elsewhere?.status === 'active') {
      throw new RegistrationFinishError(
        'installation_conflict',
        `This Lark app is already connected to agent "${elsewhere.agentName}" in workspace "${elsewhere.workspaceName}"; disconnect it there first`,
      );
    }
    // A revoked row elsewhere only holds the app_id; it no longer routes anything.
    if (elsewhere) await tx.delete(larkInstallation).where(eq(larkInstallation.id, elsewhere.id));

    const [previous] = await tx
      .select({ id: larkInstallation.id, appId: larkInstallation.appId })
      .from(larkInstallation)
      .where(and(eq(larkInstallation.workspaceId, session.workspaceId), eq(larkInstallation.agentId, session.agentId)))
      .for('update');
    const [installation] = await tx
      .insert(larkInstallation)
      .values({
        workspaceId: session.workspaceId,
        agentId: session.agentId,
        appId: bot.appId,
        appSecretCiphertext: bot.appSecretCiphertext,
        botOpenId: bot.botOpenId,
        botUnionId: bot.botUnionId,
        region: bot.region,
        installerUserId: session.initiatorUserId,
      })
      .onConflictDoUpdate({
        target: [larkInstallation.workspaceId, larkInstallation.agentId],
        set: {
          appId: bot.appId,
          appSecretCiphertext: bot.appSecretCiphertext,
          botOpenId: bot.botOpenId,
          botUnionId: bot.botUnionId,
          tenantKey: null,
          region: bot.region,
          installerUserId: session.initiatorUserId,
          status: 'active',
          revokedAt: null,
          installedAt: new Date(),
          updatedAt: new Date(),
        },
      })
      .returning({ id: larkInstallation.id });
    // open_ids are scoped per app: bindings made for a previous app can never match again.
    if (previous && previous.appId !== bot.appId) {
      await tx.delete(larkUserBinding).where(eq(larkUserBinding.installationId, installation.id));
    }
    try {
      await tx.transaction(async (sp) => {
        await sp
          .insert(larkUserBinding)
          .values({ workspaceId: session.workspaceId, installationId: installation.id, userId: session.initiatorUserId, larkOpenId: bot.installerOpenId! })
          .onConflictDoUpdate({
            target: [larkUserBinding.installationId, larkUserBinding.larkOpenId],
            set: { boundAt: new Date() },
            setWhere: sql`${larkUserBinding.userId} = excluded.user_id`,
          });
      });
    } catch (err) {
      if (isForeignKeyViolation(err)) {
        throw new RegistrationFinishError('installer_bind_failed', 'The person who started the install is no longer a member of this workspace');
      }
      throw err;
    }
    await tx
      .update(larkRegistrationSession)
      .set({ status: 'success', installationId: installation.id, region: bot.region, pollerToken: null, pollerUntil: null, updatedAt: new Date() })
      .where(eq(larkRegistrationSession.id, session.id));
    await notify(tx, LARK_INSTALLATION_CHANNEL, installation.id);
    await emitWorkspaceEvent(tx, session.workspaceId, { type: 'lark.installations.changed' });
    await emitWorkspaceEvent(tx, session.workspaceId, { type: 'lark.registration.changed', session_id: session.id });
    return installation.id;
  });
}

export const newPollerToken = () => `poller-${randomUUID()}`;

/** Device-flow sessions by status, for the worker's gauges. */
export async function countRegistrationSessionsByStatus(db: DbOrTx): Promise<Record<string, number>> {
  const res = await db.execute<{ status: string; n: number }>(sql`SELECT status, count(*)::int AS n FROM lark_registration_session GROUP BY status`);
  return Object.fromEntries(res.rows.map((r) => [r.status, r.n]));
}
