import { sessionResponse } from '@/server/contract/chat';
import { json, uuidParam, withWorkspace } from '@/server/http/route';
import { getChatSessionOrThrow, sessionView } from '@/server/services/chat';

export const GET = withWorkspace({}, async ({ db, workspace, user, params }) => {
  const sessionId = uuidParam(params, 'sessionId', 'Chat session');
  const row = await getChatSessionOrThrow(db, { workspaceId: workspace.id, sessionId, viewerUserId: user.id });
  return json(sessionResponse, { session: sessionView(row) });
});
