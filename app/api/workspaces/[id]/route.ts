import { updateWorkspaceInput, workspaceResponse } from '@/server/contract/workspaces';
import { json, withWorkspace } from '@/server/http/route';
import { updateWorkspaceSettings, workspaceView } from '@/server/services/workspaces';

export const GET = withWorkspace({}, async ({ workspace, role }) => json(workspaceResponse, { workspace: workspaceView({ workspace, role }) }));

export const PATCH = withWorkspace({ role: 'admin', body: updateWorkspaceInput }, async ({ db, workspace, role, body }) => {
  const ws = await updateWorkspaceSettings(db, { workspaceId: workspace.id, name: body.name, larkLocale: body.lark_locale });
  return json(workspaceResponse, { workspace: workspaceView({ workspace: ws, role }) });
});
