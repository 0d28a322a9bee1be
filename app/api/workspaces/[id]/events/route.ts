import { withWorkspace } from '@/server/http/route';
import { workspaceEventHub } from '@/server/realtime/workspace-event-hub';

export const dynamic = 'force-dynamic';

// Proxies and webviews drop idle streams; a comment line every 15 s keeps this one open.
const HEARTBEAT_MS = 15_000;

export const GET = withWorkspace({}, async ({ workspace, req }) => {
  const encoder = new TextEncoder();
  let cleanup = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (chunk: string) => {
        try {
          controller.enqueue(encoder.encode(chunk));
        } catch {
          cleanup();
        }
      };
      const unsubscribe = workspaceEventHub().subscribe(workspace.id, (event) => {
        const { workspace_id: _ignored, ...payload } = event;
        send(`data: ${JSON.stringify(payload)}\n\n`);
      });
      const heartbeat = setInterval(() => send(': keep-alive\n\n'), HEARTBEAT_MS);
      cleanup = () => {
        clearInterval(heartbeat);
        unsubscribe();
      };
      req.signal.addEventListener('abort', () => {
        cleanup();
        try {
          controller.close();
        } catch {
          // already closed
        }
      });
      send('retry: 2000\n: connected\n\n');
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(stream, {
    headers: { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' },
  });
});
