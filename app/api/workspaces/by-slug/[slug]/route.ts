import { withUser } from '@/server/http/route';
import { getWorkspaceBySlugForMember } from '@/server/services/workspaces/get-workspace';
import { workspaceView } from '@/server/services/workspaces/views';

export const GET = withUser({}, async ({ db, user, params }) => {
  const row = await getWorkspaceBySlugForMember(db, { slug: params.slug ?? '', userId: user.id });
  return Response.json({ workspace: workspaceView(row.workspace, row.role) });
});
