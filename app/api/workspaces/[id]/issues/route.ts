import { createIssueInput, issueListQuery, issueResponse, issuesResponse } from '@/server/contract/issues';
import { larkIntegration } from '@/server/lark/integration';
import { json, withWorkspace } from '@/server/http/route';
import { createIssue, issueView, listIssues } from '@/server/services/issues';

export const GET = withWorkspace({ query: issueListQuery }, async ({ db, workspace, user, query }) => {
  const issues = await listIssues(db, workspace.id, { filter: query, viewerUserId: user.id });
  return json(issuesResponse, { issues: issues.map((i) => issueView(i, user.id, larkIntegration().hosts)) });
});

// A description may hold 50,000 characters; as JSON that can reach a few hundred KB.
export const POST = withWorkspace({ body: createIssueInput, maxBodyBytes: 512 * 1024 }, async ({ db, workspace, user, body }) => {
  const created = await createIssue(db, { workspaceId: workspace.id, creatorUserId: user.id, title: body.title, description: body.description, originType: 'web' });
  return json(issueResponse, { issue: issueView(created, user.id, larkIntegration().hosts) }, { status: 201 });
});
