import { uuidParam, withWorkspace } from '@/server/http/route';
import { revokeInstallation } from '@/server/lark/install/installations';

export const DELETE = withWorkspace({}, async ({ db, workspace, user, role, params }) => {
  const installationId = uuidParam(params, 'installationId', 'Installation');
  await revokeInstallation(db, { workspaceId: workspace.id, installationId, actor: { userId: user.id, role } });
  return new Response(null, { status: 204 });
});
