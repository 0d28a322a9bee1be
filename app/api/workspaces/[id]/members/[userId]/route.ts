import { changeMemberRoleInput, memberResponse } from '@/server/contract/members';
import { notFound } from '@/server/errors';
import { json, withWorkspace } from '@/server/http/route';
import { changeMemberRole, memberView, removeMember } from '@/server/services/members';

export const PATCH = withWorkspace({ role: 'admin', body: changeMemberRoleInput }, async ({ db, workspace, role, params, body }) => {
  if (!params.userId) throw notFound('Member');
  const m = await changeMemberRole(db, { workspaceId: workspace.id, actorRole: role, userId: params.userId, role: body.role });
  return json(memberResponse, { member: memberView(m) });
});

// Any member may remove themselves (leave); removing others needs admin, checked in the service.
export const DELETE = withWorkspace({}, async ({ db, workspace, role, user, params }) => {
  if (!params.userId) throw notFound('Member');
  await removeMember(db, { workspaceId: workspace.id, actorUserId: user.id, actorRole: role, userId: params.userId });
  return new Response(null, { status: 204 });
});
