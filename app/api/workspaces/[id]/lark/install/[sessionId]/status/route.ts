import { larkInstallStatusSchema } from '@/server/contract/lark';
import { json, uuidParam, withWorkspace } from '@/server/http/route';
import { getInstallStatus } from '@/server/lark/install/installations';

export const GET = withWorkspace({}, async ({ db, workspace, user, role, params }) => {
  const sessionId = uuidParam(params, 'sessionId', 'Install session');
  return json(larkInstallStatusSchema, await getInstallStatus(db, { workspaceId: workspace.id, sessionId, actor: { userId: user.id, role } }));
});
