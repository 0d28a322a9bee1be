import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { sleep } from '../async/abortable';
import type { DbOrTx } from '../db/client';

// Siblings take a worker's bots over once its row is NODE_STALE_AFTER_MS old, sooner than its leases
// run out (LARK_LEASE_TTL_MS, 8 s by default): a SIGKILLed worker's bots move after 5 to 7 s, which
// leaves room to reconnect a thousand of them within 15 s. A worker that cannot renew its row closes
// its own connections after NODE_FENCE_AFTER_MS, 2 s before a sibling may call it stale, so the two
// never overlap; 3 to 4 s without the database (the fence bound less one beat) are ridden out.

/** A running worker renews its node row this often (one single-row UPDATE). */
export const NODE_HEARTBEAT_MS = 1_000;
/**
 * A node row not renewed for this long belongs to a process that is gone: its bots are taken over
 * without waiting for their leases to run out.
 */
export const NODE_STALE_AFTER_MS = 6_000;
/**
 * A worker that could not renew its node row for this long closes its Lark connections itself, well
 * before others may call it stale, so two connections for one bot never overlap.
 */
export const NODE_FENCE_AFTER_MS = 4_000;

export class NodeIdInUseError extends Error {}

/**
 * What this process knows of its own node row, for the hub. Fenced (no renewal for
 * NODE_FENCE_AFTER_MS): siblings may soon call this node gone, so it takes no lease until a renewal
 * goes through again. And a sibling's stale row proves it gone only once this node's own renewals
 * have gone through for a whole staleness window: right after a database outage they shared, the
 * sibling's row is as old as ours would be, and taking its bots would only move them for nothing.
 */
export class NodeHealth {
  private fenced = false;
  // A node that just claimed its row has witnessed no outage: it may judge at once.
  private steadySince: number | null = Number.NEGATIVE_INFINITY;

  /** A renewal that started at `startedAt` went through; true when it ends a fence. */
  renewed(startedAt: number): boolean {
    const wasFenced = this.fenced;
    this.fenced = false;
    this.steadySince ??= startedAt;
    return wasFenced;
  }

  failed(): void {
    this.steadySince = null;
  }

  fence(): void {
    this.fenced = true;
    this.steadySince = null;
  }

  mayHoldLeases(): boolean {
    return !this.fenced;
  }

  maySeeSiblingsStale(now = performance.now()): boolean {
    return this.steadySince !== null && now - this.steadySince >= NODE_STALE_AFTER_MS;
  }
}

/**
 * Takes the worker identity `nodeId` for this boot. Lease tokens and task claims are named after
 * the node, so a second live process with the same NODE_ID would take the first one's leases as
 * its own; it is refused instead. A restarted process waits for its predecessor's heartbeat to go
 * stale (a few seconds), after which everything named after the node is provably its own.
 */
export async function claimNodeIdentity(
  db: DbOrTx,
  input: { nodeId: string; bootId?: string; waitMs?: number; logger: Logger },
): Promise<string> {
  const bootId = input.bootId ?? randomUUID();
  const deadline = Date.now() + (input.waitMs ?? NODE_STALE_AFTER_MS * 2);
  for (;;) {
    const res = await db.execute<{ boot_id: string }>(sql`
      INSERT INTO worker_node (node_id, boot_id) VALUES (${input.nodeId}, ${bootId})
      ON CONFLICT (node_id) DO UPDATE SET boot_id = excluded.boot_id, started_at = now(), heartbeat_at = now()
        WHERE worker_node.boot_id = excluded.boot_id
           OR worker_node.heartbeat_at < now() - make_interval(secs => ${NODE_STALE_AFTER_MS / 1000})
      RETURNING boot_id`);
    if (res.rows[0]?.boot_id === bootId) return bootId;
    if (Date.now() > deadline) {
      throw new NodeIdInUseError(
        `NODE_ID "${input.nodeId}" is in use by another running worker. Give each worker process its own NODE_ID (or leave it unset to use the host name and process id).`,
      );
    }
    input.logger.info({ nodeId: input.nodeId }, 'waiting for the previous process with this NODE_ID to go stale');
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Renews the node row until the signal aborts. When no renewal has succeeded for NODE_FENCE_AFTER_MS
 * (the database is unreachable, a query hangs, or this process was stalled), `onFenced` runs once,
 * before any sibling can take this node's bots over; it runs again after the next failure streak.
 * The bound is kept by a timer, not by the loop, which may be stuck awaiting a query that never ends.
 */
export async function runNodeHeartbeat(
  db: DbOrTx,
  input: {
    nodeId: string;
    bootId: string;
    logger: Logger;
    onFenced?: () => void;
    /** A renewal went through after the fence had closed the connections: they may be taken back. */
    onRecovered?: () => void;
    health?: NodeHealth;
    heartbeatMs?: number;
    fenceAfterMs?: number;
  },
  signal: AbortSignal,
): Promise<void> {
  const fenceAfterMs = input.fenceAfterMs ?? NODE_FENCE_AFTER_MS;
  let fence: NodeJS.Timeout | undefined;
  // Measured from the start of the last renewal that succeeded: the row says at least that much.
  const armFence = (renewedAt: number) => {
    clearTimeout(fence);
    fence = setTimeout(
      () => {
        input.logger.error({ nodeId: input.nodeId }, 'node heartbeat stale; closing every Lark connection');
        input.health?.fence();
        input.onFenced?.();
      },
      Math.max(0, renewedAt + fenceAfterMs - performance.now()),
    );
  };
  // The claim wrote the row a moment ago.
  armFence(performance.now());
  try {
    while (!signal.aborted) {
      await sleep(input.heartbeatMs ?? NODE_HEARTBEAT_MS, signal);
      if (signal.aborted) break;
      const startedAt = performance.now();
      try {
        const res = await untilAborted(db.execute(sql`UPDATE worker_node SET heartbeat_at = now() WHERE node_id = ${input.nodeId} AND boot_id = ${input.bootId}`), signal);
        if (res === null) break;
        // A row no longer ours renews nothing: the fence then runs as if the database were gone.
        if ((res.rowCount ?? 0) === 0) {
          input.logger.error({ nodeId: input.nodeId }, 'another process took over this NODE_ID');
          input.health?.failed();
        } else {
          armFence(startedAt);
          if (input.health?.renewed(startedAt)) {
            input.logger.info({ nodeId: input.nodeId }, 'node heartbeat renewed again; connections may be taken back');
            input.onRecovered?.();
          }
        }
      } catch (err) {
        input.health?.failed();
        input.logger.warn({ err }, 'node heartbeat failed; retrying');
      }
    }
  } finally {
    clearTimeout(fence);
  }
}

/** The promise's value, or null once the signal aborts: a stop never waits on a query that hangs. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | null> {
  if (signal.aborted) return Promise.resolve(null);
  return new Promise<T | null>((resolve, reject) => {
    const onAbort = () => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (err: unknown) => (signal.removeEventListener('abort', onAbort), reject(err)),
    );
  });
}

/** Whether any of these nodes stopped heartbeating (their bots may be taken over now). */
export async function anyNodeStale(db: DbOrTx, nodeIds: string[]): Promise<boolean> {
  if (nodeIds.length === 0) return false;
  const res = await db.execute<{ stale: boolean }>(sql`
    SELECT EXISTS (
      SELECT 1 FROM worker_node
      WHERE node_id = ANY(${sql.param(nodeIds)}::text[]) AND heartbeat_at < now() - make_interval(secs => ${NODE_STALE_AFTER_MS / 1000})
    ) AS stale`);
  return res.rows[0]?.stale ?? false;
}

/** The node a lease token (`<node>-g<generation>`) belongs to. */
export function leaseHolderNode(token: string): string | null {
  const at = token.lastIndexOf('-g');
  return at > 0 ? token.slice(0, at) : null;
}

/** Lets a successor with the same NODE_ID start without waiting (called after the leases are released). */
export async function releaseNodeIdentity(db: DbOrTx, input: { nodeId: string; bootId: string }): Promise<void> {
  await db.execute(sql`DELETE FROM worker_node WHERE node_id = ${input.nodeId} AND boot_id = ${input.bootId}`);
}
