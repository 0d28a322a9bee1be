import { createWorkspaceInput, workspaceResponse } from '@/server/contract/workspaces';
import { json, withUser } from '@/server/http/route';
import { createWorkspace, workspaceView } from '@/server/services/workspaces';

export const POST = withUser({ body: createWorkspaceInput }, async ({ db, user, body }) => {
  const ws = await createWorkspace(db, { ...body, ownerUserId: user.id });
  return json(workspaceResponse, { workspace: workspaceView({ workspace: ws, role: 'owner' }) }, { status: 201 });
});
