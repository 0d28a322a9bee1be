import { z } from 'zod';
import { memberRoles } from '@/server/db/schema';
import { withWorkspace } from '@/server/http/route';
import { addMember, listMembers } from '@/server/services/members/members';
import { memberView } from '@/server/services/members/views';

export const GET = withWorkspace({}, async ({ db, workspace }) => {
  const members = await listMembers(db, workspace.id);
  return Response.json({ members: members.map(memberView) });
});

const addMemberInput = z.object({
  email: z.email({ message: 'Enter a valid email address' }),
  role: z.enum(memberRoles, { message: 'Role must be owner, admin or member' }).default('member'),
});

export const POST = withWorkspace({ role: 'admin', body: addMemberInput }, async ({ db, workspace, role, body }) => {
  const m = await addMember(db, { workspaceId: workspace.id, actorRole: role, email: body.email, role: body.role });
  return Response.json({ member: memberView(m) }, { status: 201 });
});
