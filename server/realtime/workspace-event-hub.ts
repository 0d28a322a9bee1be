import { PgListener } from '../db/listen';
import { env } from '../env';
import { isChatSessionEvent, WORKSPACE_EVENTS_CHANNEL, type WorkspaceEventEnvelope } from '../events';
import { logger } from '../logger';

type Listener = (event: WorkspaceEventEnvelope) => void;

/**
 * Whether a viewer may see an event. Chat session events go to the session's creator only, the
 * same rule as `getChatSessionOrThrow` (sessions are private to their creator); an event whose
 * session is unknown goes to nobody.
 */
export function eventVisibleTo(event: WorkspaceEventEnvelope, viewerUserId: string): boolean {
  if (isChatSessionEvent(event)) return typeof event.session_creator_id === 'string' && event.session_creator_id === viewerUserId;
  return true;
}

/**
 * Fans the workspace-events channel of this web process's one listener out to its open event
 * streams. After the listener reconnects, every stream is told to resync: events sent while it was
 * away are gone, so clients refetch.
 */
class WorkspaceEventHub {
  private readonly listeners = new Map<string, Set<Listener>>();
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly listener: PgListener) {}

  /** Delivers the workspace's events that `viewerUserId` may see. */
  subscribe(workspaceId: string, viewerUserId: string, onEvent: Listener): () => void {
    const listener: Listener = (event) => {
      if (eventVisibleTo(event, viewerUserId)) onEvent(event);
    };
    let set = this.listeners.get(workspaceId);
    if (!set) this.listeners.set(workspaceId, (set = new Set()));
    set.add(listener);
    this.unsubscribe ??= this.listener.subscribe(WORKSPACE_EVENTS_CHANNEL, {
      onNotify: (payload) => this.dispatch(payload),
      onResync: () => this.resyncAll(),
    });
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(workspaceId);
    };
  }

  /**
   * Resolves once the shared connection is listening, or after `timeoutMs` (the database may be
   * away; the stream then starts anyway and resyncs when the listener comes back).
   */
  async listening(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([this.listener.ready(), timeout]);
    clearTimeout(timer);
  }

  private dispatch(payload: string): void {
    let event: WorkspaceEventEnvelope;
    try {
      event = JSON.parse(payload) as WorkspaceEventEnvelope;
    } catch (err) {
      logger().warn({ err }, 'ignoring a malformed workspace event');
      return;
    }
    for (const listener of this.listeners.get(event.workspace_id) ?? []) listener(event);
  }

  private resyncAll(): void {
    for (const [workspaceId, set] of this.listeners) for (const listener of set) listener({ type: 'resync', workspace_id: workspaceId });
  }
}

const globalForHub = globalThis as unknown as { larkspurEventHub?: WorkspaceEventHub };

export function workspaceEventHub(): WorkspaceEventHub {
  globalForHub.larkspurEventHub ??= new WorkspaceEventHub(new PgListener({ connectionString: env().DATABASE_URL, logger: logger().child({ part: 'listener' }) }));
  return globalForHub.larkspurEventHub;
}
