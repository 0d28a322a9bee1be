import { addMemberInput, memberResponse, membersResponse } from '@/server/contract/members';
import { json, withWorkspace } from '@/server/http/route';
import { addMember, listMembers, memberView } from '@/server/services/members';

export const GET = withWorkspace({}, async ({ db, workspace }) => {
  const members = await listMembers(db, workspace.id);
  return json(membersResponse, { members: members.map(memberView) });
});

export const POST = withWorkspace({ role: 'admin', body: addMemberInput }, async ({ db, workspace, role, body }) => {
  const m = await addMember(db, { workspaceId: workspace.id, actorRole: role, email: body.email, role: body.role });
  return json(memberResponse, { member: memberView(m) }, { status: 201 });
});
