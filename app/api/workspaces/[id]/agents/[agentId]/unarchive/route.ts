import { agentResponse } from '@/server/contract/agents';
import { json, uuidParam, withWorkspace } from '@/server/http/route';
import { agentView, setAgentArchived } from '@/server/services/agents';

export const POST = withWorkspace({}, async ({ db, workspace, user, role, params }) => {
  const viewer = { userId: user.id, role };
  const a = await setAgentArchived(db, { workspaceId: workspace.id, agentId: uuidParam(params, 'agentId', 'Agent'), archived: false, viewer });
  return json(agentResponse, { agent: agentView(a, viewer) });
});
