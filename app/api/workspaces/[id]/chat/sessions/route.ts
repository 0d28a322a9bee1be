import { createSessionInput, sessionResponse, sessionsResponse } from '@/server/contract/chat';
import { isUuid, json, withWorkspace } from '@/server/http/route';
import { createChatSession, listChatSessions, sessionView } from '@/server/services/chat';

export const GET = withWorkspace({}, async ({ db, workspace, user, req }) => {
  const agentId = new URL(req.url).searchParams.get('agent_id');
  if (agentId && !isUuid(agentId)) return json(sessionsResponse, { sessions: [] });
  const rows = await listChatSessions(db, { workspaceId: workspace.id, viewerUserId: user.id, agentId: agentId ?? undefined });
  return json(sessionsResponse, { sessions: rows.map(sessionView) });
});

export const POST = withWorkspace({ body: createSessionInput }, async ({ db, workspace, user, body }) => {
  const row = await createChatSession(db, { workspaceId: workspace.id, creatorUserId: user.id, agentId: body.agent_id, title: body.title });
  return json(sessionResponse, { session: sessionView(row) }, { status: 201 });
});
