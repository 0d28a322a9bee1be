import { and, asc, count, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { member, workspace, type MemberRole } from '../db/schema';
import { isUniqueViolation } from '../db/pg-errors';
import type { Payload } from '../contract/shared';
import type { CreateWorkspaceInput, LarkLocaleSetting, WorkspaceSummary, workspaceSchema } from '../contract/workspaces';
import { AppError, notFound } from '../errors';
import { inTransaction } from '../db/transaction';
import { quotas } from '../env';

export type WorkspaceRow = typeof workspace.$inferSelect;
/** A workspace together with the role the looking user holds in it. */
export type MemberWorkspace = { workspace: WorkspaceRow; role: MemberRole };

/**
 * Creates a workspace with the caller as its owner, up to `maxOwned` (MAX_WORKSPACES_PER_USER)
 * owned workspaces, so one sign-up cannot fill the database with them.
 */
export async function createWorkspace(db: DbOrTx, input: CreateWorkspaceInput & { ownerUserId: string; maxOwned?: number }): Promise<WorkspaceRow> {
  const maxOwned = input.maxOwned ?? quotas().MAX_WORKSPACES_PER_USER;
  try {
    return await inTransaction(db, async (tx) => {
      // Serializes one user's creations, so two at once cannot both pass the count below.
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('larkspur.workspace-quota'), hashtext(${input.ownerUserId}))`);
      const [owned] = await tx
        .select({ n: count() })
        .from(member)
        .where(and(eq(member.userId, input.ownerUserId), eq(member.role, 'owner')));
      if (owned.n >= maxOwned) {
        throw new AppError('quota_exceeded', `You already own ${owned.n} workspaces, the most one account may own (${maxOwned}). Delete one or ask an operator to raise the limit.`);
      }
      const [ws] = await tx
        .insert(workspace)
        .values({ name: input.name, slug: input.slug, issuePrefix: input.issue_prefix })
        .returning();
      await tx.insert(member).values({ workspaceId: ws.id, userId: input.ownerUserId, role: 'owner' });
      return ws;
    });
  } catch (err) {
    if (isUniqueViolation(err, 'workspace_slug_unique')) {
      throw new AppError('conflict', 'That URL slug is already taken', { slug: 'That URL slug is already taken' });
    }
    throw err;
  }
}

/**
 * The workspace by id or slug, only when `userId` is a member; null otherwise, so callers answer
 * "not found" alike for a workspace that does not exist and one the user may not see.
 */
export async function findMemberWorkspace(
  db: DbOrTx,
  input: { userId: string } & ({ workspaceId: string } | { slug: string }),
): Promise<MemberWorkspace | null> {
  const [row] = await db
    .select({ workspace, role: member.role })
    .from(workspace)
    .innerJoin(member, and(eq(member.workspaceId, workspace.id), eq(member.userId, input.userId)))
    .where('slug' in input ? eq(workspace.slug, input.slug) : eq(workspace.id, input.workspaceId))
    .limit(1);
  return row ?? null;
}

export async function getMemberWorkspaceOrThrow(
  db: DbOrTx,
  input: { userId: string } & ({ workspaceId: string } | { slug: string }),
): Promise<MemberWorkspace> {
  const row = await findMemberWorkspace(db, input);
  if (!row) throw notFound('Workspace');
  return row;
}

/** The user's workspaces, oldest membership first: `/` opens the first one. */
export async function listWorkspacesForUser(db: DbOrTx, userId: string): Promise<MemberWorkspace[]> {
  return db
    .select({ workspace, role: member.role })
    .from(member)
    .innerJoin(workspace, eq(workspace.id, member.workspaceId))
    .where(eq(member.userId, userId))
    .orderBy(asc(member.createdAt), asc(workspace.name));
}

export async function renameWorkspace(db: DbOrTx, input: { workspaceId: string; name: string }): Promise<WorkspaceRow> {
  const [ws] = await db
    .update(workspace)
    .set({ name: input.name, updatedAt: new Date() })
    .where(eq(workspace.id, input.workspaceId))
    .returning();
  if (!ws) throw notFound('Workspace');
  return ws;
}

/** Changes a workspace's settings (owners and admins: the route checks the role); fields left out keep their value. */
export async function updateWorkspaceSettings(db: DbOrTx, input: { workspaceId: string; name?: string; larkLocale?: LarkLocaleSetting }): Promise<WorkspaceRow> {
  const [ws] = await db
    .update(workspace)
    .set({
      ...(input.name !== undefined && { name: input.name }),
      ...(input.larkLocale !== undefined && { larkLocale: input.larkLocale }),
      updatedAt: new Date(),
    })
    .where(eq(workspace.id, input.workspaceId))
    .returning();
  if (!ws) throw notFound('Workspace');
  return ws;
}

export function workspaceSummary({ workspace: ws, role }: MemberWorkspace): WorkspaceSummary {
  return { id: ws.id, name: ws.name, slug: ws.slug, issue_prefix: ws.issuePrefix, role };
}

export function workspaceView(row: MemberWorkspace): Payload<typeof workspaceSchema> {
  return { ...workspaceSummary(row), lark_locale: row.workspace.larkLocale as LarkLocaleSetting, created_at: row.workspace.createdAt };
}
