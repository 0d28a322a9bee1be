import { renameWorkspaceInput, workspaceResponse } from '@/server/contract/workspaces';
import { json, withWorkspace } from '@/server/http/route';
import { renameWorkspace, workspaceView } from '@/server/services/workspaces';

export const GET = withWorkspace({}, async ({ workspace, role }) => json(workspaceResponse, { workspace: workspaceView({ workspace, role }) }));

export const PATCH = withWorkspace({ role: 'admin', body: renameWorkspaceInput }, async ({ db, workspace, role, body }) => {
  const ws = await renameWorkspace(db, { workspaceId: workspace.id, name: body.name });
  return json(workspaceResponse, { workspace: workspaceView({ workspace: ws, role }) });
});
