import { sql, type SQL } from 'drizzle-orm';
import { NODE_STALE_AFTER_MS } from '../../ops/node-registry';
import type { Db } from '../../db/client';
import type { ConnectionState, LarkRegion } from '../../db/schema';
import { LARK_INSTALLATION_CHANNEL } from '../../events';

/** What a supervisor needs to connect, read in the sweep. The secret stays sealed until connect. */
export type ActiveInstallation = {
  id: string;
  workspaceId: string;
  appId: string;
  appSecretCiphertext: string;
  botOpenId: string;
  botUnionId: string | null;
  region: LarkRegion;
  leaseToken: string | null;
  leaseExpired: boolean;
  /** Milliseconds until the current lease runs out, by the database's clock (null without one). */
  leaseRemainingMs: number | null;
  /** The lease holder's worker stopped heartbeating: it is gone, whatever its lease says. */
  holderStale: boolean;
};

export async function listActiveInstallations(db: Db): Promise<ActiveInstallation[]> {
  const res = await db.execute<{
    id: string;
    workspace_id: string;
    app_id: string;
    app_secret_ciphertext: string;
    bot_open_id: string;
    bot_union_id: string | null;
    region: LarkRegion;
    ws_lease_token: string | null;
    lease_expired: boolean;
    lease_remaining_ms: number | null;
    holder_stale: boolean;
  }>(sql`
    SELECT id, workspace_id, app_id, app_secret_ciphertext, bot_open_id, bot_union_id, region, ws_lease_token,
           (ws_lease_expires_at IS NULL OR ws_lease_expires_at < now()) AS lease_expired,
           (EXTRACT(EPOCH FROM ws_lease_expires_at - now()) * 1000)::float8 AS lease_remaining_ms,
           ${staleHolder(sql`lark_installation.ws_lease_token`)} AS holder_stale
    FROM lark_installation WHERE status = 'active' ORDER BY created_at`);
  return res.rows.map((r) => ({
    id: r.id,
    workspaceId: r.workspace_id,
    appId: r.app_id,
    appSecretCiphertext: r.app_secret_ciphertext,
    botOpenId: r.bot_open_id,
    botUnionId: r.bot_union_id,
    region: r.region,
    leaseToken: r.ws_lease_token,
    leaseExpired: r.lease_expired,
    leaseRemainingMs: r.lease_remaining_ms === null ? null : Number(r.lease_remaining_ms),
    holderStale: r.holder_stale,
  }));
}

/**
 * True when the token's node is registered and stopped heartbeating. A node with no row (a hub run
 * on its own, as in tests and benchmarks) keeps its lease until the lease itself expires.
 */
function staleHolder(token: SQL): SQL {
  return sql`EXISTS (SELECT 1 FROM worker_node n WHERE starts_with(${token}, n.node_id || '-g')
    AND n.heartbeat_at < now() - make_interval(secs => ${NODE_STALE_AFTER_MS / 1000}))`;
}

export type LeaseClaim = { id: string; token: string; replacesToken?: string | null };

/**
 * Acquires leases for many installations in one statement. The CAS accepts a row when nobody holds
 * it, the holder's lease expired, we already hold it with this token, or we hand it over from our
 * own previous supervisor (`replacesToken`, the rotation path), or, unless `takeFromStaleNodes` is
 * false, the holder's node stopped heartbeating. With `nodeId`, a lease left by an
 * earlier process of this same node (a restart after a crash) is taken back at once instead of
 * after its TTL; node ids must therefore be unique among running workers. Returns the ids acquired.
 */
export async function acquireLeases(
  db: Db,
  claims: LeaseClaim[],
  ttlMs: number,
  nodeId?: string,
  opts: { takeFromStaleNodes?: boolean } = {},
): Promise<Set<string>> {
  const takeFromStaleNodes = opts.takeFromStaleNodes ?? true;
  const ids = claims.map((c) => c.id);
  const tokens = claims.map((c) => c.token);
  const replaces = claims.map((c) => c.replacesToken ?? null);
  const res = await db.execute<{ id: string }>(sql`
    UPDATE lark_installation AS i
    SET ws_lease_token = c.token, ws_lease_expires_at = now() + make_interval(secs => ${ttlMs / 1000}), updated_at = now()
    FROM unnest(${sql.param(ids)}::uuid[], ${sql.param(tokens)}::text[], ${sql.param(replaces)}::text[]) AS c(id, token, replaces)
    WHERE i.id = c.id
      AND i.status = 'active'
      AND (i.ws_lease_token IS NULL OR i.ws_lease_expires_at < now() OR i.ws_lease_token = c.token OR i.ws_lease_token = c.replaces
           OR (${takeFromStaleNodes}::boolean AND ${staleHolder(sql`i.ws_lease_token`)})
           OR (${nodeId ?? null}::text IS NOT NULL AND starts_with(i.ws_lease_token, ${nodeId ?? null}::text || '-g')))
    RETURNING i.id`);
  return new Set(res.rows.map((r) => r.id));
}

export type LeaseRenewal = {
  id: string;
  token: string;
  state: ConnectionState;
  lastEventAt: Date | null;
  lastConnectedAt: Date | null;
};

/**
 * The renewal tick: every lease this worker holds is extended, and each installation's connection
 * state and last event time recorded, in ONE statement however many installations there are.
 * Returns the ids still held; any other id lost its lease (revoked, or taken after expiry).
 */
export async function renewLeases(db: Db, held: LeaseRenewal[], ttlMs: number): Promise<Set<string>> {
  if (held.length === 0) return new Set();
  const res = await db.execute<{ id: string }>(sql`
    UPDATE lark_installation AS i
    SET ws_lease_expires_at = now() + make_interval(secs => ${ttlMs / 1000}),
        connection_state = h.state,
        last_event_at = GREATEST(i.last_event_at, h.last_event_at),
        last_connected_at = GREATEST(i.last_connected_at, h.last_connected_at)
    FROM unnest(${sql.param(held.map((h) => h.id))}::uuid[], ${sql.param(held.map((h) => h.token))}::text[], ${sql.param(held.map((h) => h.state))}::text[],
                ${sql.param(held.map((h) => h.lastEventAt?.toISOString() ?? null))}::timestamptz[],
                ${sql.param(held.map((h) => h.lastConnectedAt?.toISOString() ?? null))}::timestamptz[])
         AS h(id, token, state, last_event_at, last_connected_at)
    WHERE i.id = h.id AND i.ws_lease_token = h.token AND i.status = 'active'
    RETURNING i.id`);
  return new Set(res.rows.map((r) => r.id));
}

/**
 * Releases leases we still hold (CAS on each token) and tells every hub, so another worker takes
 * the connections over at once instead of at its next sweep or after the TTL.
 */
export async function releaseLeases(db: Db, held: Array<{ id: string; token: string }>, signal?: AbortSignal): Promise<void> {
  if (held.length === 0) return;
  const query = db.execute(sql`
    WITH released AS (
      UPDATE lark_installation AS i
      SET ws_lease_token = NULL, ws_lease_expires_at = NULL, connection_state = 'disconnected', updated_at = now()
      FROM unnest(${sql.param(held.map((h) => h.id))}::uuid[], ${sql.param(held.map((h) => h.token))}::text[]) AS h(id, token)
      WHERE i.id = h.id AND i.ws_lease_token = h.token
      RETURNING i.id
    )
    SELECT pg_notify(${LARK_INSTALLATION_CHANNEL}, id::text) FROM released`);
  if (!signal) {
    await query;
    return;
  }
  await Promise.race([
    query,
    new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    }),
  ]);
}
