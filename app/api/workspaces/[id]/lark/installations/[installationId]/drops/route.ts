import { larkInboundDropsResponse } from '@/server/contract/lark';
import { json, uuidParam, withWorkspace } from '@/server/http/route';
import { listInboundDrops } from '@/server/lark/install/installations';

export const GET = withWorkspace({ role: 'admin' }, async ({ db, workspace, params }) => {
  const installationId = uuidParam(params, 'installationId', 'Installation');
  return json(larkInboundDropsResponse, { drops: await listInboundDrops(db, { workspaceId: workspace.id, installationId }) });
});
