import { uuidParam, withWorkspace } from '@/server/http/route';
import { getChatSessionOrThrow, sessionView } from '@/server/services/chat/chat';

export const GET = withWorkspace({}, async ({ db, workspace, user, params }) => {
  const sessionId = uuidParam(params, 'sessionId', 'Chat session');
  const row = await getChatSessionOrThrow(db, { workspaceId: workspace.id, sessionId, viewerUserId: user.id });
  return Response.json({ session: sessionView(row) });
});
