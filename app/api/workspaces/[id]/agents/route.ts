import { agentResponse, agentsResponse, createAgentInput } from '@/server/contract/agents';
import { json, withWorkspace } from '@/server/http/route';
import { agentView, createAgent, listAgents } from '@/server/services/agents';

export const GET = withWorkspace({}, async ({ db, workspace, user, role, req }) => {
  const includeArchived = new URL(req.url).searchParams.get('include_archived') === '1';
  const agents = await listAgents(db, { workspaceId: workspace.id, includeArchived });
  return json(agentsResponse, { agents: agents.map((a) => agentView(a, { userId: user.id, role })) });
});

export const POST = withWorkspace({ body: createAgentInput }, async ({ db, workspace, user, role, body }) => {
  const a = await createAgent(db, { ...body, workspaceId: workspace.id, ownerUserId: user.id, ownerRole: role });
  return json(agentResponse, { agent: agentView(a, { userId: user.id, role }) }, { status: 201 });
});
