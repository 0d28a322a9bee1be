import pg from 'pg';
import { env } from '../env';
import { WORKSPACE_EVENTS_CHANNEL, type WorkspaceEventEnvelope } from '../events';
import { logger } from '../logger';

type Listener = (event: WorkspaceEventEnvelope) => void;

const RECONNECT_DELAY_MS = 1000;

/**
 * One LISTEN connection per web process, fanned out to every open event stream of that process.
 * Reconnects on its own; streams miss nothing they need, because clients refetch on reconnect.
 */
class WorkspaceEventHub {
  private client: pg.Client | null = null;
  private connecting: Promise<void> | null = null;
  private readonly listeners = new Map<string, Set<Listener>>();

  subscribe(workspaceId: string, listener: Listener): () => void {
    let set = this.listeners.get(workspaceId);
    if (!set) this.listeners.set(workspaceId, (set = new Set()));
    set.add(listener);
    void this.ensureConnected();
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(workspaceId);
    };
  }

  private ensureConnected(): Promise<void> {
    if (this.client) return Promise.resolve();
    this.connecting ??= this.connect().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: env().DATABASE_URL });
    client.on('notification', (msg) => {
      if (msg.channel !== WORKSPACE_EVENTS_CHANNEL || !msg.payload) return;
      let event: WorkspaceEventEnvelope;
      try {
        event = JSON.parse(msg.payload) as WorkspaceEventEnvelope;
      } catch {
        return;
      }
      for (const listener of this.listeners.get(event.workspace_id) ?? []) listener(event);
    });
    const reconnect = () => {
      if (this.client !== client) return;
      this.client = null;
      client.end().catch(() => {});
      setTimeout(() => {
        if (this.listeners.size > 0) void this.ensureConnected();
      }, RECONNECT_DELAY_MS).unref();
    };
    client.on('error', (err) => {
      logger().warn({ err: err.message }, 'workspace event listener lost its connection');
      reconnect();
    });
    client.on('end', reconnect);
    try {
      await client.connect();
      await client.query(`LISTEN ${WORKSPACE_EVENTS_CHANNEL}`);
      this.client = client;
    } catch (err) {
      logger().warn({ err: (err as Error).message }, 'workspace event listener could not connect');
      client.end().catch(() => {});
      setTimeout(() => {
        if (this.listeners.size > 0) void this.ensureConnected();
      }, RECONNECT_DELAY_MS).unref();
    }
  }
}

const globalForHub = globalThis as unknown as { larkspurEventHub?: WorkspaceEventHub };

export function workspaceEventHub(): WorkspaceEventHub {
  globalForHub.larkspurEventHub ??= new WorkspaceEventHub();
  return globalForHub.larkspurEventHub;
}
