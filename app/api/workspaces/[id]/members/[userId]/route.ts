import { z } from 'zod';
import { memberRoles } from '@/server/db/schema';
import { notFound } from '@/server/errors';
import { withWorkspace } from '@/server/http/route';
import { changeMemberRole, removeMember } from '@/server/services/members/members';
import { memberView } from '@/server/services/members/views';

const changeRoleInput = z.object({ role: z.enum(memberRoles, { message: 'Role must be owner, admin or member' }) });

export const PATCH = withWorkspace({ role: 'admin', body: changeRoleInput }, async ({ db, workspace, role, params, body }) => {
  if (!params.userId) throw notFound('Member');
  const m = await changeMemberRole(db, { workspaceId: workspace.id, actorRole: role, userId: params.userId, role: body.role });
  return Response.json({ member: memberView(m) });
});

// Any member may remove themselves (leave); removing others needs admin, checked in the service.
export const DELETE = withWorkspace({}, async ({ db, workspace, role, user, params }) => {
  if (!params.userId) throw notFound('Member');
  await removeMember(db, { workspaceId: workspace.id, actorUserId: user.id, actorRole: role, userId: params.userId });
  return new Response(null, { status: 204 });
});
