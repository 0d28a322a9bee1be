import { uuidParam, withWorkspace } from '@/server/http/route';
import { agentView, getAgentOrThrow, updateAgent, updateAgentInput } from '@/server/services/agents/agents';

export const GET = withWorkspace({}, async ({ db, workspace, user, role, params }) => {
  const a = await getAgentOrThrow(db, { workspaceId: workspace.id, agentId: uuidParam(params, 'agentId', 'Agent') });
  return Response.json({ agent: agentView(a, { userId: user.id, role }) });
});

export const PATCH = withWorkspace({ body: updateAgentInput }, async ({ db, workspace, user, role, params, body }) => {
  const viewer = { userId: user.id, role };
  const a = await updateAgent(db, { ...body, workspaceId: workspace.id, agentId: uuidParam(params, 'agentId', 'Agent'), viewer });
  return Response.json({ agent: agentView(a, viewer) });
});
