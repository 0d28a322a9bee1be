import { issueResponse } from '@/server/contract/issues';
import { json, uuidParam, withWorkspace } from '@/server/http/route';
import { getIssueOrThrow, issueView } from '@/server/services/issues';

export const GET = withWorkspace({}, async ({ db, workspace, params }) => {
  const i = await getIssueOrThrow(db, { workspaceId: workspace.id, issueId: uuidParam(params, 'issueId', 'Issue') });
  return json(issueResponse, { issue: issueView(i) });
});
