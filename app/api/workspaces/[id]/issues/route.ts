import { withWorkspace } from '@/server/http/route';
import { createIssue, createIssueInput, issueView, listIssues } from '@/server/services/issues/issues';

export const GET = withWorkspace({}, async ({ db, workspace }) => {
  const issues = await listIssues(db, workspace.id);
  return Response.json({ issues: issues.map(issueView) });
});

export const POST = withWorkspace({ body: createIssueInput }, async ({ db, workspace, user, body }) => {
  const created = await db.transaction((tx) =>
    createIssue(tx, { workspaceId: workspace.id, creatorUserId: user.id, title: body.title, description: body.description, originType: 'web' }),
  );
  return Response.json({ issue: issueView(created) }, { status: 201 });
});
