import { larkInstallationsResponse } from '@/server/contract/lark';
import { json, withWorkspace } from '@/server/http/route';
import { installationsResponse, listInstallations } from '@/server/lark/install/installations';
import { larkIntegration } from '@/server/lark/integration';

export const GET = withWorkspace({}, async ({ db, workspace, user, role }) => {
  const installations = await listInstallations(db, workspace.id);
  return json(larkInstallationsResponse, installationsResponse(larkIntegration(), installations, { userId: user.id, role }));
});
