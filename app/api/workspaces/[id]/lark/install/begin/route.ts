import { beginInstallInput, larkInstallBeginSchema } from '@/server/contract/lark';
import { json, withWorkspace } from '@/server/http/route';
import { beginInstall } from '@/server/lark/install/begin-install';

export const POST = withWorkspace({ body: beginInstallInput }, async ({ db, workspace, user, role, body }) => {
  const started = await beginInstall(db, { workspaceId: workspace.id, agentId: body.agent_id, region: body.region, actor: { userId: user.id, role } });
  return json(larkInstallBeginSchema, started);
});
