import { withWorkspace } from '@/server/http/route';
import { installationsResponse, listInstallations } from '@/server/lark/install/installations';
import { larkIntegration } from '@/server/lark/integration';

export const GET = withWorkspace({}, async ({ db, workspace, user, role }) => {
  return Response.json(installationsResponse(larkIntegration(), await listInstallations(db, workspace.id), { userId: user.id, role }));
});
