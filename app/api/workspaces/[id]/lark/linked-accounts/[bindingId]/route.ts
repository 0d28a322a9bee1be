import { uuidParam, withWorkspace } from '@/server/http/route';
import { unbindLarkUser } from '@/server/lark/binding/unbind';

/** Unlinks one of the caller's own Lark accounts; anyone else's is not found here. */
export const DELETE = withWorkspace({}, async ({ db, workspace, user, role, params }) => {
  const bindingId = uuidParam(params, 'bindingId', 'Linked Lark account');
  await unbindLarkUser(db, { workspaceId: workspace.id, bindingId, actor: { userId: user.id, role }, ownOnly: true });
  return new Response(null, { status: 204 });
});
