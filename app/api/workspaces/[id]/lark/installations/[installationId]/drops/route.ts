import { larkInboundDropsQuery, larkInboundDropsResponse } from '@/server/contract/lark';
import { json, uuidParam, withWorkspace } from '@/server/http/route';
import { listInboundDrops } from '@/server/lark/install/installations';

export const GET = withWorkspace({ role: 'admin', query: larkInboundDropsQuery }, async ({ db, workspace, params, query }) => {
  const installationId = uuidParam(params, 'installationId', 'Installation');
  return json(larkInboundDropsResponse, await listInboundDrops(db, { workspaceId: workspace.id, installationId, limit: query.limit, before: query.before }));
});
