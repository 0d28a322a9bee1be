import { and, desc, eq, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import { alias, type PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { DbOrTx } from '../db/client';
import { agent, chatSession, issue, larkInstallation, member, user, workspace, type IssueOriginType } from '../db/schema';
import type { issueSchema, IssueListFilter, UpdateIssueInput } from '../contract/issues';
import type { Payload } from '../contract/shared';
import { AppError, notFound } from '../errors';
import { emitWorkspaceEvent } from '../events';
import { isForeignKeyViolation } from '../db/pg-errors';
import { inTransaction } from '../db/transaction';
import { chatAppLinkFor, type LarkHostOverrides } from '../lark/api/hosts';

const assigneeUser = alias(user, 'assignee_user');

const issueSelection = {
  issue,
  creatorName: user.name,
  prefix: workspace.issuePrefix,
  assigneeUserName: assigneeUser.name,
  assigneeAgentName: agent.name,
  assigneeAgentColor: agent.avatarColor,
  assigneeAgentArchivedAt: agent.archivedAt,
  larkRegion: larkInstallation.region,
  originSessionCreatorId: chatSession.creatorUserId,
};

export type IssueDetails = typeof issue.$inferSelect & {
  identifier: string;
  creatorName: string;
  assigneeUserName: string | null;
  assigneeAgent: { name: string; avatarColor: string; archived: boolean } | null;
  larkRegion: 'feishu' | 'lark' | null;
  originSessionCreatorId: string | null;
};

/** Where a `/issue` from Lark was sent: its chat session and the Lark chat behind it. */
export type LarkIssueOrigin = { chatSessionId: string; installationId: string; larkChatId: string };

function selectIssues(db: DbOrTx) {
  // Every join is on the issue's own workspace, so no name or id of another tenant can leak in.
  return db
    .select(issueSelection)
    .from(issue)
    .innerJoin(user, eq(user.id, issue.creatorUserId))
    .innerJoin(workspace, eq(workspace.id, issue.workspaceId))
    .leftJoin(assigneeUser, eq(assigneeUser.id, issue.assigneeUserId))
    .leftJoin(agent, and(eq(agent.id, issue.assigneeAgentId), eq(agent.workspaceId, issue.workspaceId)))
    .leftJoin(larkInstallation, and(eq(larkInstallation.id, issue.originLarkInstallationId), eq(larkInstallation.workspaceId, issue.workspaceId)))
    .leftJoin(chatSession, and(eq(chatSession.id, issue.originChatSessionId), eq(chatSession.workspaceId, issue.workspaceId)));
}

function toDetails(r: Awaited<ReturnType<ReturnType<typeof selectIssues>['execute']>>[number]): IssueDetails {
  return {
    ...r.issue,
    identifier: `${r.prefix}-${r.issue.number}`,
    creatorName: r.creatorName,
    assigneeUserName: r.issue.assigneeUserId ? (r.assigneeUserName ?? '') : null,
    assigneeAgent:
      r.issue.assigneeAgentId && r.assigneeAgentName !== null
        ? { name: r.assigneeAgentName, avatarColor: r.assigneeAgentColor ?? '#888888', archived: r.assigneeAgentArchivedAt !== null }
        : null,
    larkRegion: r.larkRegion,
    originSessionCreatorId: r.originSessionCreatorId,
  };
}

/**
 * The one way issues are created (web and Lark's /issue). The counter UPDATE takes the workspace
 * row lock, so concurrent creates are serialized and never share a number.
 */
export async function createIssue(
  db: DbOrTx,
  input: {
    workspaceId: string;
    creatorUserId: string;
    title: string;
    description?: string;
    originType: IssueOriginType;
    larkOrigin?: LarkIssueOrigin;
  },
): Promise<IssueDetails> {
  return inTransaction(db, async (tx) => {
    const [counter] = await tx
      .update(workspace)
      .set({ issueCounter: sql`${workspace.issueCounter} + 1` })
      .where(eq(workspace.id, input.workspaceId))
      .returning({ number: workspace.issueCounter });
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
        originChatSessionId: input.larkOrigin?.chatSessionId,
        originLarkInstallationId: input.larkOrigin?.installationId,
        originLarkChatId: input.larkOrigin?.larkChatId,
      })
      .returning({ id: issue.id });
    await emitWorkspaceEvent(tx, input.workspaceId, { type: 'issue.created', issue_id: row.id });
    return getIssueOrThrow(tx, { workspaceId: input.workspaceId, issueId: row.id });
  });
}

/** Newest first; `filter` narrows by status (any of) and assignee, `viewerUserId` resolves `me`. */
export async function listIssues(
  db: DbOrTx,
  workspaceId: string,
  options: { filter?: IssueListFilter; viewerUserId?: string } = {},
): Promise<IssueDetails[]> {
  const where: SQL[] = [eq(issue.workspaceId, workspaceId)];
  const { status, assignee } = options.filter ?? {};
  if (status?.length) where.push(inArray(issue.status, status));
  if (assignee?.kind === 'none') where.push(isNull(issue.assigneeUserId), isNull(issue.assigneeAgentId));
  if (assignee?.kind === 'me') {
    if (!options.viewerUserId) throw new Error('the "me" filter needs a viewer');
    where.push(eq(issue.assigneeUserId, options.viewerUserId));
  }
  if (assignee?.kind === 'member') where.push(eq(issue.assigneeUserId, assignee.id));
  if (assignee?.kind === 'agent') where.push(eq(issue.assigneeAgentId, assignee.id));
  const rows = await selectIssues(db)
    .where(and(...where))
    .orderBy(desc(issue.number))
    .limit(500);
  return rows.map(toDetails);
}

export async function getIssueOrThrow(db: DbOrTx, input: { workspaceId: string; issueId: string }): Promise<IssueDetails> {
  const [r] = await selectIssues(db).where(and(eq(issue.workspaceId, input.workspaceId), eq(issue.id, input.issueId)));
  if (!r) throw notFound('Issue');
  return toDetails(r);
}

const invalidAssignee = (message: string) => new AppError('validation_failed', `assignee: ${message}`, { assignee: message });

/** Refuses an assignee that is not a member or a live agent of this workspace, before anything is written. */
async function checkAssignee(db: DbOrTx, workspaceId: string, assignee: NonNullable<UpdateIssueInput['assignee']>): Promise<void> {
  if (assignee.type === 'member') {
    const [m] = await db
      .select({ userId: member.userId })
      .from(member)
      .where(and(eq(member.workspaceId, workspaceId), eq(member.userId, assignee.id)));
    if (!m) throw invalidAssignee('No member of this workspace has that id');
    return;
  }
  const [a] = await db
    .select({ archivedAt: agent.archivedAt })
    .from(agent)
    .where(and(eq(agent.workspaceId, workspaceId), eq(agent.id, assignee.id)));
  if (!a) throw invalidAssignee('No agent of this workspace has that id');
  if (a.archivedAt) throw new AppError('agent_archived', 'This agent is archived; pick another assignee');
}

/**
 * Edits an issue's title, description, status or assignee. Any member of the workspace may do
 * this, as in most team trackers: issues are shared work, and roles guard the workspace itself.
 */
export async function updateIssue(
  db: DbOrTx,
  input: { workspaceId: string; issueId: string; changes: UpdateIssueInput },
): Promise<IssueDetails> {
  const { title, description, status, assignee } = input.changes;
  return inTransaction(db, async (tx) => {
    if (assignee) await checkAssignee(tx, input.workspaceId, assignee);
    const set: PgUpdateSetSource<typeof issue> = { updatedAt: sql`now()` };
    if (title !== undefined) set.title = title;
    if (description !== undefined) set.description = description;
    if (status !== undefined) set.status = status;
    if (assignee !== undefined) {
      set.assigneeUserId = assignee?.type === 'member' ? assignee.id : null;
      set.assigneeAgentId = assignee?.type === 'agent' ? assignee.id : null;
    }
    let updated: { id: string }[];
    try {
      updated = await tx
        .update(issue)
        .set(set)
        .where(and(eq(issue.workspaceId, input.workspaceId), eq(issue.id, input.issueId)))
        .returning({ id: issue.id });
    } catch (err) {
      // The assignee left (or was deleted) between the check and the write.
      if (isForeignKeyViolation(err, 'issue_assignee_member_fk') || isForeignKeyViolation(err, 'issue_assignee_agent_fk')) {
        throw invalidAssignee('That assignee is no longer part of this workspace');
      }
      throw err;
    }
    if (updated.length === 0) throw notFound('Issue');
    await emitWorkspaceEvent(tx, input.workspaceId, { type: 'issue.updated', issue_id: input.issueId });
    return getIssueOrThrow(tx, { workspaceId: input.workspaceId, issueId: input.issueId });
  });
}

/**
 * The API's view of an issue for `viewerUserId`: the web conversation is shown to its creator only;
 * the Lark chat's link is built for the Lark host the deployment uses.
 */
export function issueView(i: IssueDetails, viewerUserId?: string, larkHosts: LarkHostOverrides = {}): Payload<typeof issueSchema> {
  const assignee: Payload<typeof issueSchema>['assignee'] = i.assigneeUserId
    ? { type: 'member', id: i.assigneeUserId, name: i.assigneeUserName ?? '' }
    : i.assigneeAgentId && i.assigneeAgent
      ? { type: 'agent', id: i.assigneeAgentId, name: i.assigneeAgent.name, avatar_color: i.assigneeAgent.avatarColor, archived: i.assigneeAgent.archived }
      : null;
  return {
    id: i.id,
    identifier: i.identifier,
    number: i.number,
    title: i.title,
    description: i.description,
    status: i.status,
    origin_type: i.originType,
    origin: {
      lark_chat: i.originLarkChatId && i.larkRegion ? { chat_id: i.originLarkChatId, region: i.larkRegion, url: chatAppLinkFor(i.larkRegion, i.originLarkChatId, larkHosts) } : null,
      chat_session_id: i.originChatSessionId && viewerUserId && i.originSessionCreatorId === viewerUserId ? i.originChatSessionId : null,
    },
    creator: { id: i.creatorUserId, name: i.creatorName },
    assignee,
    created_at: i.createdAt,
    updated_at: i.updatedAt,
  };
}
