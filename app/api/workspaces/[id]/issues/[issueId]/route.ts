import { uuidParam, withWorkspace } from '@/server/http/route';
import { getIssueOrThrow, issueView } from '@/server/services/issues/issues';

export const GET = withWorkspace({}, async ({ db, workspace, params }) => {
  const i = await getIssueOrThrow(db, { workspaceId: workspace.id, issueId: uuidParam(params, 'issueId', 'Issue') });
  return Response.json({ issue: issueView(i) });
});
