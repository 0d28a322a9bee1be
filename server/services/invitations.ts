import { createHash, randomBytes } from 'node:crypto';
import { and, desc, eq, exists, gt, inArray, isNull, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { invitation, member, user, workspace, type MemberRole } from '../db/schema';
import { isUniqueViolation } from '../db/pg-errors';
import { inTransaction } from '../db/transaction';
import { invitationTokenSchema, type CreateInvitationInput, type InvitationRole, type invitationSchema } from '../contract/invitations';
import type { Payload } from '../contract/shared';
import { AppError, conflict, forbidden, notFound } from '../errors';
import { emitWorkspaceEvent } from '../events';

export type InvitationRow = typeof invitation.$inferSelect;
export type InvitationWithCreator = InvitationRow & { createdBy: { id: string; name: string } | null };

/** Why an invitation can no longer be used; `pending` means it still can. */
export type InvitationState = 'pending' | 'expired' | 'accepted' | 'revoked';

const inviterRoles: MemberRole[] = ['owner', 'admin'];

export function hashInvitationToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** An invitation whose creator is no longer an owner or admin there stops working with them. */
const creatorStillInvites = exists(
  sql`(SELECT 1 FROM ${member} WHERE ${member.workspaceId} = ${invitation.workspaceId} AND ${member.userId} = ${invitation.createdByUserId} AND ${inArray(member.role, inviterRoles)})`,
);

const usable = and(isNull(invitation.acceptedAt), isNull(invitation.revokedAt), gt(invitation.expiresAt, sql`now()`), creatorStillInvites);

function stateOf(row: InvitationRow, creatorCanInvite: boolean, now: Date): InvitationState {
  if (row.acceptedAt) return 'accepted';
  if (row.revokedAt || !creatorCanInvite) return 'revoked';
  if (row.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'pending';
}

const goneMessages: Record<Exclude<InvitationState, 'pending'>, string> = {
  expired: 'This invitation has expired; ask for a new one',
  accepted: 'This invitation has already been used',
  revoked: 'This invitation was revoked',
};

function gone(state: Exclude<InvitationState, 'pending'>): AppError {
  return new AppError('gone', goneMessages[state]);
}

/** Creates an invitation and returns its token: the only time the token exists outside the link. */
export async function createInvitation(
  db: DbOrTx,
  input: CreateInvitationInput & { workspaceId: string; actorUserId: string; actorRole: MemberRole },
): Promise<{ invitation: InvitationWithCreator; token: string }> {
  // The route already requires admin; the verb holds the same line for any other caller.
  if (!inviterRoles.includes(input.actorRole)) throw forbidden('Only owners and admins can invite people');
  return inTransaction(db, async (tx) => {
    if (input.email) {
      const [already] = await tx
        .select({ userId: member.userId })
        .from(member)
        .innerJoin(user, eq(user.id, member.userId))
        .where(and(eq(member.workspaceId, input.workspaceId), eq(sql`lower(${user.email})`, input.email)));
      if (already) throw new AppError('conflict', 'This person is already a member', { email: 'This person is already a member' });
    }
    const token = randomBytes(32).toString('base64url');
    const [row] = await tx
      .insert(invitation)
      .values({
        workspaceId: input.workspaceId,
        tokenHash: hashInvitationToken(token),
        email: input.email,
        role: input.role,
        createdByUserId: input.actorUserId,
        // From the database clock, like created_at, so the CHECK on the window holds exactly.
        expiresAt: sql`now() + make_interval(days => ${input.expires_in_days})`,
      })
      .returning();
    const [creator] = await tx.select({ id: user.id, name: user.name }).from(user).where(eq(user.id, input.actorUserId));
    await emitWorkspaceEvent(tx, input.workspaceId, { type: 'members.changed' });
    return { invitation: { ...row, createdBy: creator ?? null }, token };
  });
}

/** Invitations of the workspace that can still be accepted, newest first. */
export async function listPendingInvitations(db: DbOrTx, workspaceId: string): Promise<InvitationWithCreator[]> {
  const rows = await db
    .select({ invitation, creatorId: user.id, creatorName: user.name })
    .from(invitation)
    .leftJoin(user, eq(user.id, invitation.createdByUserId))
    .where(and(eq(invitation.workspaceId, workspaceId), usable))
    .orderBy(desc(invitation.createdAt), desc(invitation.id));
  return rows.map((r) => ({ ...r.invitation, createdBy: r.creatorId && r.creatorName !== null ? { id: r.creatorId, name: r.creatorName } : null }));
}

/** Revokes a pending invitation of this workspace; one of another workspace is not found. */
export async function revokeInvitation(db: DbOrTx, input: { workspaceId: string; invitationId: string }): Promise<void> {
  await inTransaction(db, async (tx) => {
    const [row] = await tx
      .select()
      .from(invitation)
      .where(and(eq(invitation.id, input.invitationId), eq(invitation.workspaceId, input.workspaceId)))
      .for('update');
    if (!row) throw notFound('Invitation');
    const state = stateOf(row, true, new Date());
    if (state !== 'pending') throw gone(state);
    await tx.update(invitation).set({ revokedAt: sql`now()` }).where(eq(invitation.id, row.id));
    await emitWorkspaceEvent(tx, input.workspaceId, { type: 'members.changed' });
  });
}

export type InvitationPreview = {
  state: InvitationState;
  workspace: { id: string; name: string; slug: string };
  role: InvitationRole;
  email: string | null;
  expiresAt: Date;
  inviterName: string | null;
};

/**
 * What the link's holder may learn before accepting: which workspace, who invited them, the role.
 * Null for a token that names no invitation.
 */
export async function previewInvitation(db: DbOrTx, token: string): Promise<InvitationPreview | null> {
  if (!invitationTokenSchema.safeParse(token).success) return null;
  const [row] = await db
    .select({
      invitation,
      workspace: { id: workspace.id, name: workspace.name, slug: workspace.slug },
      inviterName: user.name,
      creatorCanInvite: sql<boolean>`${creatorStillInvites}`,
      now: sql<Date>`now()`.mapWith((v: string | Date) => new Date(v)),
    })
    .from(invitation)
    .innerJoin(workspace, eq(workspace.id, invitation.workspaceId))
    .leftJoin(user, eq(user.id, invitation.createdByUserId))
    .where(eq(invitation.tokenHash, hashInvitationToken(token)));
  if (!row) return null;
  return {
    state: stateOf(row.invitation, row.creatorCanInvite, row.now),
    workspace: row.workspace,
    role: row.invitation.role,
    email: row.invitation.email,
    expiresAt: row.invitation.expiresAt,
    inviterName: row.inviterName,
  };
}

/**
 * May this token open sign-up for `email`? Only while the invitation can still be accepted, and,
 * when it names an email, only for that email (so a link cannot be spent on someone else's address).
 */
export async function invitationAdmitsSignUp(db: DbOrTx, input: { token: string; email: string }): Promise<'ok' | 'invalid' | 'email_mismatch'> {
  const preview = await previewInvitation(db, input.token);
  if (!preview || preview.state !== 'pending') return 'invalid';
  if (preview.email && preview.email !== input.email.trim().toLowerCase()) return 'email_mismatch';
  return 'ok';
}

/**
 * The signed-in user accepts: they join with the invitation's role and the invitation is spent, in
 * one transaction. The row lock makes a second, concurrent accept of the same link see it used.
 */
export async function acceptInvitation(
  db: DbOrTx,
  input: { token: string; userId: string },
): Promise<{ workspace: { id: string; name: string; slug: string }; role: InvitationRole }> {
  if (!invitationTokenSchema.safeParse(input.token).success) throw notFound('Invitation');
  try {
    return await inTransaction(db, async (tx) => {
      const [row] = await tx
        .select({
          invitation,
          creatorCanInvite: sql<boolean>`${creatorStillInvites}`,
          now: sql<Date>`now()`.mapWith((v: string | Date) => new Date(v)),
        })
        .from(invitation)
        .where(eq(invitation.tokenHash, hashInvitationToken(input.token)))
        .for('update', { of: invitation });
      if (!row) throw notFound('Invitation');
      const inv = row.invitation;
      const state = stateOf(inv, row.creatorCanInvite, row.now);
      if (state !== 'pending') throw gone(state);
      const [account] = await tx.select({ email: user.email }).from(user).where(eq(user.id, input.userId));
      if (!account) throw notFound('Invitation');
      if (inv.email && inv.email !== account.email.toLowerCase()) {
        throw forbidden('This invitation is for another email address; sign in with that account to accept it');
      }
      const [already] = await tx
        .select({ role: member.role })
        .from(member)
        .where(and(eq(member.workspaceId, inv.workspaceId), eq(member.userId, input.userId)));
      if (already) throw conflict('You are already a member of this workspace');
      await tx.insert(member).values({ workspaceId: inv.workspaceId, userId: input.userId, role: inv.role });
      await tx.update(invitation).set({ acceptedAt: sql`now()`, acceptedByUserId: input.userId }).where(eq(invitation.id, inv.id));
      await emitWorkspaceEvent(tx, inv.workspaceId, { type: 'members.changed' });
      const [ws] = await tx.select({ id: workspace.id, name: workspace.name, slug: workspace.slug }).from(workspace).where(eq(workspace.id, inv.workspaceId));
      return { workspace: ws, role: inv.role };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('You are already a member of this workspace');
    throw err;
  }
}

export function invitationView(row: InvitationWithCreator): Payload<typeof invitationSchema> {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    created_at: row.createdAt,
    expires_at: row.expiresAt,
    created_by: row.createdBy,
  };
}
