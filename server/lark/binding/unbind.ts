import { and, eq, sql } from 'drizzle-orm';
import { hasRole } from '../../auth/roles';
import type { DbOrTx } from '../../db/client';
import { larkUserBinding, workspace, type MemberRole } from '../../db/schema';
import { inTransaction } from '../../db/transaction';
import { forbidden, notFound } from '../../errors';

export type UnbindActor = { userId: string; role: MemberRole };

/**
 * Removes a link between a Lark account and a member. A member may remove their own links, an
 * owner or admin any link of the workspace. `installationId` narrows the lookup to one bot;
 * `ownOnly` makes someone else's link not found (a member's own list holds only theirs). A link of
 * another workspace is never found. From the next message on, that Lark user is prompted to link
 * again.
 */
export async function unbindLarkUser(
  db: DbOrTx,
  input: { workspaceId: string; bindingId: string; actor: UnbindActor; installationId?: string; ownOnly?: boolean },
): Promise<{ bindingId: string; installationId: string; userId: string }> {
  return inTransaction(db, async (tx) => {
    const [binding] = await tx
      .select({ id: larkUserBinding.id, installationId: larkUserBinding.installationId, userId: larkUserBinding.userId })
      .from(larkUserBinding)
      .where(
        and(
          eq(larkUserBinding.workspaceId, input.workspaceId),
          eq(larkUserBinding.id, input.bindingId),
          input.installationId ? eq(larkUserBinding.installationId, input.installationId) : undefined,
        ),
      )
      .for('update');
    const own = binding?.userId === input.actor.userId;
    if (!binding || (input.ownOnly && !own)) throw notFound('Linked Lark account');
    if (!own && !hasRole(input.actor.role, 'admin')) throw forbidden('Only owners and admins can remove the Lark link of another member');
    await tx.delete(larkUserBinding).where(and(eq(larkUserBinding.workspaceId, input.workspaceId), eq(larkUserBinding.id, binding.id)));
    return { bindingId: binding.id, installationId: binding.installationId, userId: binding.userId };
  });
}

export type UnbindBySelfResult = { outcome: 'removed'; workspaceId: string; workspaceName: string; userId: string } | { outcome: 'not_found' };

/**
 * The Lark user's own unlink (the confirm button of `/unbind`): removes the link only when it is
 * theirs on this bot. A press of an old card, or of one forwarded to someone else, finds nothing.
 */
export async function unbindBySelf(db: DbOrTx, input: { installationId: string; larkOpenId: string; bindingId: string }): Promise<UnbindBySelfResult> {
  const res = await db.execute<{ workspace_id: string; workspace_name: string; user_id: string }>(sql`
    WITH removed AS (
      DELETE FROM lark_user_binding
      WHERE id = ${input.bindingId}::uuid AND installation_id = ${input.installationId}::uuid AND lark_open_id = ${input.larkOpenId}
      RETURNING workspace_id, user_id
    )
    SELECT r.workspace_id, w.name AS workspace_name, r.user_id FROM removed r JOIN ${workspace} w ON w.id = r.workspace_id`);
  const row = res.rows[0];
  return row ? { outcome: 'removed', workspaceId: row.workspace_id, workspaceName: row.workspace_name, userId: row.user_id } : { outcome: 'not_found' };
}

/** The link a Lark user holds on this bot, with the workspace's name (what `/unbind` asks about), or null. */
export async function findLarkBinding(
  db: DbOrTx,
  input: { installationId: string; larkOpenId: string },
): Promise<{ bindingId: string; workspaceId: string; workspaceName: string; userId: string } | null> {
  const [row] = await db
    .select({ bindingId: larkUserBinding.id, workspaceId: larkUserBinding.workspaceId, workspaceName: workspace.name, userId: larkUserBinding.userId })
    .from(larkUserBinding)
    .innerJoin(workspace, eq(workspace.id, larkUserBinding.workspaceId))
    .where(and(eq(larkUserBinding.installationId, input.installationId), eq(larkUserBinding.larkOpenId, input.larkOpenId)));
  return row ?? null;
}
