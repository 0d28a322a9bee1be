import { and, asc, eq } from 'drizzle-orm';
import type { DbOrTx, Tx } from '../db/client';
import { member, user, type MemberRole } from '../db/schema';
import { isLockConflict } from '../db/pg-errors';
import type { memberSchema } from '../contract/members';
import type { Payload } from '../contract/shared';
import { conflict, forbidden, notFound } from '../errors';
import { emitWorkspaceEvent } from '../events';
import { inTransaction } from '../db/transaction';

const memberSelection = { userId: member.userId, email: user.email, name: user.name, role: member.role, joinedAt: member.createdAt };

export type MemberWithUser = { userId: string; email: string; name: string; role: MemberRole; joinedAt: Date };

export async function listMembers(db: DbOrTx, workspaceId: string): Promise<MemberWithUser[]> {
  return db
    .select(memberSelection)
    .from(member)
    .innerJoin(user, eq(user.id, member.userId))
    .where(eq(member.workspaceId, workspaceId))
    .orderBy(asc(member.createdAt));
}

async function getMemberOrThrow(db: DbOrTx, workspaceId: string, userId: string): Promise<MemberWithUser> {
  const [row] = await db
    .select(memberSelection)
    .from(member)
    .innerJoin(user, eq(user.id, member.userId))
    .where(and(eq(member.workspaceId, workspaceId), eq(member.userId, userId)));
  if (!row) throw notFound('Member');
  return row;
}

/** Locks the workspace's owner rows so two concurrent demotions cannot leave it without an owner. */
async function ownerCount(tx: Tx, workspaceId: string): Promise<number> {
  const rows = await tx
    .select({ userId: member.userId })
    .from(member)
    .where(and(eq(member.workspaceId, workspaceId), eq(member.role, 'owner')))
    .for('update');
  return rows.length;
}

/** The membership row, locked for the rest of the transaction. */
async function lockMemberOrThrow(tx: Tx, workspaceId: string, userId: string): Promise<{ role: MemberRole }> {
  const [target] = await tx
    .select({ role: member.role })
    .from(member)
    .where(and(eq(member.workspaceId, workspaceId), eq(member.userId, userId)))
    .for('update');
  if (!target) throw notFound('Member');
  return target;
}

export async function changeMemberRole(
  db: DbOrTx,
  input: { workspaceId: string; actorRole: MemberRole; userId: string; role: MemberRole },
): Promise<MemberWithUser> {
  try {
    return await inTransaction(db, async (tx) => {
      // Owner rows first, in one order, then the target: two owners demoting each other queue on
      // the same first row instead of each holding the row the other needs next.
      await tx
        .select({ userId: member.userId })
        .from(member)
        .where(and(eq(member.workspaceId, input.workspaceId), eq(member.role, 'owner')))
        .orderBy(asc(member.userId))
        .for('update');
      const target = await lockMemberOrThrow(tx, input.workspaceId, input.userId);
      if ((target.role === 'owner' || input.role === 'owner') && input.actorRole !== 'owner') {
        throw forbidden('Only owners can grant or change the owner role');
      }
      if (target.role === 'owner' && input.role !== 'owner' && (await ownerCount(tx, input.workspaceId)) <= 1) {
        throw conflict('A workspace needs at least one owner');
      }
      await tx
        .update(member)
        .set({ role: input.role })
        .where(and(eq(member.workspaceId, input.workspaceId), eq(member.userId, input.userId)));
      await emitWorkspaceEvent(tx, input.workspaceId, { type: 'members.changed' });
      return getMemberOrThrow(tx, input.workspaceId, input.userId);
    });
  } catch (err) {
    // Postgres broke a lock cycle with another membership change (a removal locks in its own order).
    if (isLockConflict(err)) throw conflict('The members changed at the same time; reload and try again');
    throw err;
  }
}

/**
 * Removes a membership. Everything hanging off member(workspace, user) goes with it through
 * ON DELETE CASCADE foreign keys, in this same statement.
 */
export async function removeMember(
  db: DbOrTx,
  input: { workspaceId: string; actorUserId: string; actorRole: MemberRole; userId: string },
): Promise<void> {
  const leaving = input.actorUserId === input.userId;
  await inTransaction(db, async (tx) => {
    const target = await lockMemberOrThrow(tx, input.workspaceId, input.userId);
    if (!leaving && input.actorRole === 'member') throw forbidden();
    if (!leaving && target.role === 'owner' && input.actorRole !== 'owner') throw forbidden('Only owners can remove owners');
    if (target.role === 'owner' && (await ownerCount(tx, input.workspaceId)) <= 1) {
      throw conflict('A workspace needs at least one owner');
    }
    await tx.delete(member).where(and(eq(member.workspaceId, input.workspaceId), eq(member.userId, input.userId)));
    await emitWorkspaceEvent(tx, input.workspaceId, { type: 'members.changed' });
  });
}

export function memberView(m: MemberWithUser): Payload<typeof memberSchema> {
  return { user_id: m.userId, email: m.email, name: m.name, role: m.role, joined_at: m.joinedAt };
}
