import { issueResponse, updateIssueInput } from '@/server/contract/issues';
import { larkIntegration } from '@/server/lark/integration';
import { json, uuidParam, withWorkspace } from '@/server/http/route';
import { getIssueOrThrow, issueView, updateIssue } from '@/server/services/issues';

export const GET = withWorkspace({}, async ({ db, workspace, user, params }) => {
  const i = await getIssueOrThrow(db, { workspaceId: workspace.id, issueId: uuidParam(params, 'issueId', 'Issue') });
  return json(issueResponse, { issue: issueView(i, user.id, larkIntegration().hosts) });
});

// Any member may edit any issue of the workspace (no role option): issues are the team's shared
// work, as in most trackers; the workspace's roles guard its settings, members and agents.
export const PATCH = withWorkspace({ body: updateIssueInput, maxBodyBytes: 512 * 1024 }, async ({ db, workspace, user, params, body }) => {
  const issueId = uuidParam(params, 'issueId', 'Issue');
  const updated = await updateIssue(db, { workspaceId: workspace.id, issueId, changes: body });
  return json(issueResponse, { issue: issueView(updated, user.id, larkIntegration().hosts) });
});
