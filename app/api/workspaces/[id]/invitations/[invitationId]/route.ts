import { uuidParam, withWorkspace } from '@/server/http/route';
import { revokeInvitation } from '@/server/services/invitations';

export const DELETE = withWorkspace({ role: 'admin' }, async ({ db, workspace, params }) => {
  await revokeInvitation(db, { workspaceId: workspace.id, invitationId: uuidParam(params, 'invitationId', 'Invitation') });
  return new Response(null, { status: 204 });
});
