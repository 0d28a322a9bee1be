import { z } from 'zod';
import type { Db } from '../../db/client';
import { member, workspace } from '../../db/schema';
import { AppError } from '../../errors';
import { isUniqueViolation } from '../../db/pg-errors';

export const workspaceSlugSchema = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$/, 'Use 3-40 lowercase letters, digits or dashes (not at the ends)');
export const issuePrefixSchema = z
  .string()
  .trim()
  .regex(/^[A-Z][A-Z0-9]{1,9}$/, 'Use 2-10 capital letters or digits, starting with a letter');

export const createWorkspaceInput = z.object({
  name: z.string().trim().min(1, 'Name is required').max(80, 'Name is at most 80 characters'),
  slug: workspaceSlugSchema,
  issue_prefix: issuePrefixSchema,
});
export type CreateWorkspaceInput = z.infer<typeof createWorkspaceInput>;

/** Creates a workspace with the caller as its owner. */
export async function createWorkspace(db: Db, input: CreateWorkspaceInput & { ownerUserId: string }) {
  try {
    return await db.transaction(async (tx) => {
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
