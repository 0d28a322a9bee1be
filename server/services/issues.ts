import { and, desc, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { issue, user, workspace, type IssueOriginType } from '../db/schema';
import type { issueSchema } from '../contract/issues';
import type { Payload } from '../contract/shared';
import { notFound } from '../errors';
import { emitWorkspaceEvent } from '../events';
import { inTransaction } from '../db/transaction';

export type IssueWithCreator = typeof issue.$inferSelect & { creatorName: string; identifier: string };

/**
 * The one way issues are created (web and Lark's /issue). The counter UPDATE takes the workspace
 * row lock, so concurrent creates are serialized and never share a number.
 */
export async function createIssue(
  db: DbOrTx,
  input: { workspaceId: string; creatorUserId: string; title: string; description?: string; originType: IssueOriginType },
): Promise<IssueWithCreator> {
  return inTransaction(db, async (tx) => {
    const [counter] = await tx
      .update(workspace)
      .set({ issueCounter: sql`${workspace.issueCounter} + 1` })
      .where(eq(workspace.id, input.workspaceId))
      .returning({ number: workspace.issueCounter, prefix: workspace.issuePrefix });
    if (!counter) throw notFound('Workspace');
    const [row] = await tx
      .insert(issue)
      .values({
        workspaceId: input.workspaceId,
        number: counter.number,
        title: input.title,
        description: input.description ?? '',
        originType: input.originType,
        creatorUserId: input.creatorUserId,
      })
      .returning();
    await emitWorkspaceEvent(tx, input.workspaceId, { type: 'issue.created', issue_id: row.id });
    const [creator] = await tx.select({ name: user.name }).from(user).where(eq(user.id, input.creatorUserId));
    return { ...row, creatorName: creator?.name ?? '', identifier: `${counter.prefix}-${row.number}` };
  });
}

const issueSelection = { issue, creatorName: user.name, prefix: workspace.issuePrefix };

export async function listIssues(db: DbOrTx, workspaceId: string): Promise<IssueWithCreator[]> {
  const rows = await db
    .select(issueSelection)
    .from(issue)
    .innerJoin(user, eq(user.id, issue.creatorUserId))
    .innerJoin(workspace, eq(workspace.id, issue.workspaceId))
    .where(eq(issue.workspaceId, workspaceId))
    .orderBy(desc(issue.number))
    .limit(500);
  return rows.map((r) => ({ ...r.issue, creatorName: r.creatorName, identifier: `${r.prefix}-${r.issue.number}` }));
}

export async function getIssueOrThrow(db: DbOrTx, input: { workspaceId: string; issueId: string }): Promise<IssueWithCreator> {
  const [r] = await db
    .select(issueSelection)
    .from(issue)
    .innerJoin(user, eq(user.id, issue.creatorUserId))
    .innerJoin(workspace, eq(workspace.id, issue.workspaceId))
    .where(and(eq(issue.workspaceId, input.workspaceId), eq(issue.id, input.issueId)));
  if (!r) throw notFound('Issue');
  return { ...r.issue, creatorName: r.creatorName, identifier: `${r.prefix}-${r.issue.number}` };
}

export function issueView(i: IssueWithCreator): Payload<typeof issueSchema> {
  return {
    id: i.id,
    identifier: i.identifier,
    number: i.number,
    title: i.title,
    description: i.description,
    status: i.status,
    origin_type: i.originType,
    creator: { id: i.creatorUserId, name: i.creatorName },
    created_at: i.createdAt,
  };
}
