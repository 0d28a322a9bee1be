import { withUser } from '@/server/http/route';
import { createWorkspace, createWorkspaceInput } from '@/server/services/workspaces/create-workspace';
import { workspaceView } from '@/server/services/workspaces/views';

export const POST = withUser({ body: createWorkspaceInput }, async ({ db, user, body }) => {
  const ws = await createWorkspace(db, { ...body, ownerUserId: user.id });
  return Response.json({ workspace: workspaceView(ws, 'owner') }, { status: 201 });
});
