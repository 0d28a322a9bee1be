import { messagesResponse, sendMessageInput, sendMessageResponse } from '@/server/contract/chat';
import { json, uuidParam, withWorkspace } from '@/server/http/route';
import { getChatSessionOrThrow, listChatMessages, sendChatMessage } from '@/server/services/chat';

export const GET = withWorkspace({}, async ({ db, workspace, user, role, params }) => {
  const sessionId = uuidParam(params, 'sessionId', 'Chat session');
  await getChatSessionOrThrow(db, { workspaceId: workspace.id, sessionId, viewerUserId: user.id });
  return json(messagesResponse, await listChatMessages(db, { workspaceId: workspace.id, sessionId, viewerRole: role }));
});

// A message may hold 20,000 characters; as JSON that can exceed the default cap.
export const POST = withWorkspace({ body: sendMessageInput, maxBodyBytes: 192 * 1024 }, async ({ db, workspace, user, params, body }) => {
  const sessionId = uuidParam(params, 'sessionId', 'Chat session');
  const result = await sendChatMessage(db, { workspaceId: workspace.id, sessionId, authorUserId: user.id, authorName: user.name, content: body.content });
  return json(sendMessageResponse, result, { status: 201 });
});
