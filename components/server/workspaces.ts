import { and, asc, eq } from 'drizzle-orm';
import { cache } from 'react';
import { db } from '@/server/db/client';
import { member, workspace } from '@/server/db/schema';
import type { WorkspaceSummary } from '@/components/api/types';

const columns = {
  id: workspace.id,
  name: workspace.name,
  slug: workspace.slug,
  issue_prefix: workspace.issuePrefix,
  role: member.role,
};

/** The user's workspaces, oldest membership first (the one `/` opens). */
export const listMyWorkspaces = cache(async (userId: string): Promise<WorkspaceSummary[]> =>
  db()
    .select(columns)
    .from(member)
    .innerJoin(workspace, eq(workspace.id, member.workspaceId))
    .where(eq(member.userId, userId))
    .orderBy(asc(member.createdAt), asc(workspace.name)),
);

/** A workspace by slug, only when the user is a member of it. */
export const findMyWorkspaceBySlug = cache(async (userId: string, slug: string): Promise<WorkspaceSummary | null> => {
  const rows = await db()
    .select(columns)
    .from(member)
    .innerJoin(workspace, eq(workspace.id, member.workspaceId))
    .where(and(eq(member.userId, userId), eq(workspace.slug, slug)))
    .limit(1);
  return rows[0] ?? null;
});
