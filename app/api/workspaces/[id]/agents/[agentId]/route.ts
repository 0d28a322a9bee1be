import { agentResponse, updateAgentInput } from '@/server/contract/agents';
import { json, uuidParam, withWorkspace } from '@/server/http/route';
import { agentView, getAgentOrThrow, updateAgent } from '@/server/services/agents';

export const GET = withWorkspace({}, async ({ db, workspace, user, role, params }) => {
  const a = await getAgentOrThrow(db, { workspaceId: workspace.id, agentId: uuidParam(params, 'agentId', 'Agent') });
  return json(agentResponse, { agent: agentView(a, { userId: user.id, role }) });
});

export const PATCH = withWorkspace({ body: updateAgentInput }, async ({ db, workspace, user, role, params, body }) => {
  const viewer = { userId: user.id, role };
  const a = await updateAgent(db, { ...body, workspaceId: workspace.id, agentId: uuidParam(params, 'agentId', 'Agent'), viewer });
  return json(agentResponse, { agent: agentView(a, viewer) });
});
