import { z } from 'zod';
import { withWorkspace } from '@/server/http/route';
import { renameWorkspace } from '@/server/services/workspaces/get-workspace';
import { workspaceView } from '@/server/services/workspaces/views';

export const GET = withWorkspace({}, async ({ workspace, role }) => Response.json({ workspace: workspaceView(workspace, role) }));

const renameInput = z.object({ name: z.string().trim().min(1, 'Name is required').max(80, 'Name is at most 80 characters') });

export const PATCH = withWorkspace({ role: 'admin', body: renameInput }, async ({ db, workspace, role, body }) => {
  const ws = await renameWorkspace(db, { workspaceId: workspace.id, name: body.name });
  return Response.json({ workspace: workspaceView(ws, role) });
});
