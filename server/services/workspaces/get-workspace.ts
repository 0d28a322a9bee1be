import { and, asc, eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import { member, workspace } from '../../db/schema';
import { notFound } from '../../errors';

/** The workspace by slug, only when `userId` is a member; otherwise not found. */
export async function getWorkspaceBySlugForMember(db: DbOrTx, input: { slug: string; userId: string }) {
  const [row] = await db
    .select({ workspace, role: member.role })
    .from(workspace)
    .innerJoin(member, and(eq(member.workspaceId, workspace.id), eq(member.userId, input.userId)))
    .where(eq(workspace.slug, input.slug))
    .limit(1);
  if (!row) throw notFound('Workspace');
  return row;
}

export async function listWorkspacesForUser(db: DbOrTx, userId: string) {
  return db
    .select({ workspace, role: member.role })
    .from(workspace)
    .innerJoin(member, eq(member.workspaceId, workspace.id))
    .where(eq(member.userId, userId))
    .orderBy(asc(workspace.createdAt));
}

export async function renameWorkspace(db: DbOrTx, input: { workspaceId: string; name: string }) {
  const [ws] = await db
    .update(workspace)
    .set({ name: input.name, updatedAt: new Date() })
    .where(eq(workspace.id, input.workspaceId))
    .returning();
  if (!ws) throw notFound('Workspace');
  return ws;
}
