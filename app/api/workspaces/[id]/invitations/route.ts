import { createdInvitationResponse, createInvitationInput, invitationsResponse } from '@/server/contract/invitations';
import { env } from '@/server/env';
import { json, withWorkspace } from '@/server/http/route';
import { createInvitation, invitationView, listPendingInvitations } from '@/server/services/invitations';

export const GET = withWorkspace({ role: 'admin' }, async ({ db, workspace }) => {
  const invitations = await listPendingInvitations(db, workspace.id);
  return json(invitationsResponse, { invitations: invitations.map(invitationView) });
});

export const POST = withWorkspace({ role: 'admin', body: createInvitationInput }, async ({ db, workspace, user, role, body }) => {
  const created = await createInvitation(db, { ...body, workspaceId: workspace.id, actorUserId: user.id, actorRole: role });
  const url = new URL(`/invite/${created.token}`, env().APP_URL).toString();
  return json(createdInvitationResponse, { invitation: invitationView(created.invitation), token: created.token, url }, { status: 201 });
});
