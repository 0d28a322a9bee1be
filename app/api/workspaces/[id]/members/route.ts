import { membersResponse } from '@/server/contract/members';
import { json, withWorkspace } from '@/server/http/route';
import { listMembers, memberView } from '@/server/services/members';

// People join through an invitation they accept themselves (../invitations); nobody is added by email.
export const GET = withWorkspace({}, async ({ db, workspace }) => {
  const members = await listMembers(db, workspace.id);
  return json(membersResponse, { members: members.map(memberView) });
});
