import type { DbOrTx } from '../db/client';
import type { WorkspaceEventEnvelope } from '../events';
import { logger } from '../logger';
import { findMemberWorkspace } from '../services/workspaces';
import { workspaceEventHub } from './workspace-event-hub';

/** Proxies and webviews drop idle streams; a comment line this often keeps one open. */
export const EVENT_STREAM_HEARTBEAT_MS = 15_000;

export type WorkspaceEventStreamOptions = {
  db: DbOrTx;
  workspaceId: string;
  viewerUserId: string;
  /** The request's signal: the client went away. */
  signal: AbortSignal;
  heartbeatMs?: number;
};

/**
 * The server-sent event stream of one viewer in one workspace: the events they may see (see
 * `eventVisibleTo`), a heartbeat, and an end as soon as they are no longer a member. Membership is
 * checked again on every `members.changed` and `resync` and at each heartbeat, so a missed
 * notification cannot keep a removed member listening for more than one interval.
 */
export function workspaceEventStream(opts: WorkspaceEventStreamOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cleanup = () => {};
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      const close = () => {
        if (!open) return;
        open = false;
        cleanup();
        try {
          controller.close();
        } catch {
          // already closed
        }
      };
      const send = (chunk: string) => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(chunk));
        } catch {
          close();
        }
      };
      // A failed check (the database is away) keeps the stream: nobody can be removed while the
      // database is unreachable, and the next heartbeat checks again.
      const stillMember = () =>
        findMemberWorkspace(opts.db, { userId: opts.viewerUserId, workspaceId: opts.workspaceId }).then(
          (row) => row !== null,
          (err: unknown) => {
            logger().warn({ err, workspaceId: opts.workspaceId }, 'could not recheck an event stream viewer; keeping the stream until the next check');
            return true;
          },
        );
      const recheck = async () => {
        if (!open) return false;
        if (await stillMember()) return open;
        close();
        return false;
      };
      // Everything goes out through one chain, in order: after a membership change, nothing more is
      // sent until the check has answered.
      let chain: Promise<void> = Promise.resolve();
      const enqueue = (work: () => Promise<void>) => {
        chain = chain.then(work);
      };

      const unsubscribe = workspaceEventHub().subscribe(opts.workspaceId, opts.viewerUserId, (event: WorkspaceEventEnvelope) => {
        const { workspace_id: _workspace, session_creator_id: _creator, ...payload } = event;
        const line = `data: ${JSON.stringify(payload)}\n\n`;
        enqueue(async () => {
          if ((event.type === 'members.changed' || event.type === 'resync') && !(await recheck())) return;
          send(line);
        });
      });
      const heartbeat = setInterval(() => {
        enqueue(async () => {
          if (await recheck()) send(': keep-alive\n\n');
        });
      }, opts.heartbeatMs ?? EVENT_STREAM_HEARTBEAT_MS);
      const onAbort = () => close();
      cleanup = () => {
        clearInterval(heartbeat);
        unsubscribe();
        opts.signal.removeEventListener('abort', onAbort);
      };
      if (opts.signal.aborted) return close();
      opts.signal.addEventListener('abort', onAbort, { once: true });
      send('retry: 2000\n: connected\n\n');
    },
    cancel() {
      cleanup();
    },
  });
}
