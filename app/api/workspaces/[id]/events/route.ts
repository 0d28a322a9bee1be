import { withWorkspace } from '@/server/http/route';
import { workspaceEventStream } from '@/server/realtime/workspace-event-stream';

export const dynamic = 'force-dynamic';

export const GET = withWorkspace({}, async ({ db, workspace, user, req }) => {
  const stream = workspaceEventStream({ db, workspaceId: workspace.id, viewerUserId: user.id, signal: req.signal });
  return new Response(stream, {
    headers: { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' },
  });
});
