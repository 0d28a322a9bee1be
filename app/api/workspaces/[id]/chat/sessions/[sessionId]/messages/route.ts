import { uuidParam, withWorkspace } from '@/server/http/route';
import { getChatSessionOrThrow, listChatMessages, sendChatMessage, sendMessageInput } from '@/server/services/chat/chat';

export const GET = withWorkspace({}, async ({ db, workspace, user, params }) => {
  const sessionId = uuidParam(params, 'sessionId', 'Chat session');
  await getChatSessionOrThrow(db, { workspaceId: workspace.id, sessionId, viewerUserId: user.id });
  return Response.json(await listChatMessages(db, { workspaceId: workspace.id, sessionId }));
});

export const POST = withWorkspace({ body: sendMessageInput }, async ({ db, workspace, user, params, body }) => {
  const sessionId = uuidParam(params, 'sessionId', 'Chat session');
  const result = await sendChatMessage(db, { workspaceId: workspace.id, sessionId, authorUserId: user.id, content: body.content });
  result.message.author.name = user.name;
  return Response.json(result, { status: 201 });
});
