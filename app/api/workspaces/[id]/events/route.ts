import { withWorkspace } from '@/server/http/route';
import { workspaceEventHub } from '@/server/realtime/workspace-event-hub';
import { workspaceEventStream } from '@/server/realtime/workspace-event-stream';

/** How long a new stream waits for the shared LISTEN connection before it answers anyway. */
const LISTEN_READY_TIMEOUT_MS = 3_000;

export const dynamic = 'force-dynamic';

export const GET = withWorkspace({}, async ({ db, workspace, user, req }) => {
  const stream = workspaceEventStream({ db, workspaceId: workspace.id, viewerUserId: user.id, signal: req.signal });
  // Answer once LISTEN is in place, so that whatever happens after the client sees the response
  // reaches it (the very first stream of a process would otherwise miss the first events).
  await workspaceEventHub().listening(LISTEN_READY_TIMEOUT_MS);
  return new Response(stream, {
    headers: { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' },
  });
});
