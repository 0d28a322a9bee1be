import { uuidParam, withWorkspace } from '@/server/http/route';
import { unbindLarkUser } from '@/server/lark/binding/unbind';

/** Removes anyone's link through this bot (owners and admins). */
export const DELETE = withWorkspace({ role: 'admin' }, async ({ db, workspace, user, role, params }) => {
  const installationId = uuidParam(params, 'installationId', 'Installation');
  const bindingId = uuidParam(params, 'bindingId', 'Linked Lark account');
  await unbindLarkUser(db, { workspaceId: workspace.id, installationId, bindingId, actor: { userId: user.id, role } });
  return new Response(null, { status: 204 });
});
