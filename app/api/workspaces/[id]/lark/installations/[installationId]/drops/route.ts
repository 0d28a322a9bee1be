import { uuidParam, withWorkspace } from '@/server/http/route';
import { listInboundDrops } from '@/server/lark/install/installations';

export const GET = withWorkspace({ role: 'admin' }, async ({ db, workspace, params }) => {
  const installationId = uuidParam(params, 'installationId', 'Installation');
  return Response.json({ drops: await listInboundDrops(db, { workspaceId: workspace.id, installationId }) });
});
