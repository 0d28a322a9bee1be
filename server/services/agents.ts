import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { agent, user, type EchoRuntimeConfig, type MemberRole, type OpenAiRuntimeConfig } from '../db/schema';
import { echoDelayOf, echoWordDelayOf } from '../agent-runs/runtime/echo';
import type { agentSchema, CreateAgentInput, RuntimeInput, UpdateAgentInput } from '../contract/agents';
import type { Payload } from '../contract/shared';
import { configuredSecretBox, endpointOrigin, sealModelKey } from '../crypto/model-key';
import type { SecretBox } from '../crypto/secretbox';
import { env } from '../env';
import { AppError, forbidden, notFound } from '../errors';
import { emitWorkspaceEvent } from '../events';
import { hasRole } from '../auth/roles';
import { checkUrlHost, parseEndpointAllowlist, type BlockedRange, type EndpointAllowlist } from '../net/endpoint-allowlist';

export type AgentRow = typeof agent.$inferSelect;
export type AgentWithOwner = AgentRow & { ownerName: string };
type Viewer = { userId: string; role: MemberRole };

/** What storing a runtime needs from the server's configuration. */
export type RuntimeSettings = { box: SecretBox | null; allowlist: EndpointAllowlist };

export function runtimeSettingsFromEnv(): RuntimeSettings {
  return { box: configuredSecretBox(), allowlist: parseEndpointAllowlist(env().AGENT_ENDPOINT_ALLOWLIST) };
}

const RANGE_NAMES: Record<BlockedRange, string> = {
  loopback: 'a loopback',
  private: 'a private-network',
  link_local: 'a link-local',
  unspecified: 'an unspecified',
  multicast: 'a multicast',
  reserved: 'a reserved',
};

const invalid = (field: string, message: string) => new AppError('validation_failed', `${field}: ${message}`, { [field]: message });

/**
 * Refuses, before anything is stored, the endpoints that can be judged without DNS (address
 * literals, localhost). Names are judged again by the worker on every connection.
 */
function checkBaseUrl(baseUrl: string, allowlist: EndpointAllowlist): void {
  const verdict = checkUrlHost(new URL(baseUrl).hostname, allowlist);
  if (verdict && !verdict.allowed) {
    throw invalid(
      'runtime.base_url',
      `Base URL points to ${RANGE_NAMES[verdict.range]} address. Agents may only call public endpoints unless the server operator allows this one in AGENT_ENDPOINT_ALLOWLIST`,
    );
  }
}

function originOf(baseUrl: string): string | null {
  try {
    return endpointOrigin(baseUrl);
  } catch {
    return null;
  }
}

function runtimeColumns(runtime: RuntimeInput, settings: RuntimeSettings, previous?: AgentRow) {
  if (runtime === null) return { runtimeKind: null, runtimeConfig: {} };
  if (runtime.kind === 'echo') {
    // Left out, the delay the agent already has is kept (a form that does not show it resends only the kind).
    const wasEcho = previous?.runtimeKind === 'echo';
    const delayMs = runtime.delay_ms ?? (wasEcho ? echoDelayOf(previous.runtimeConfig) : 0);
    const wordDelayMs = runtime.word_delay_ms ?? (wasEcho ? echoWordDelayOf(previous.runtimeConfig) : 0);
    const config: EchoRuntimeConfig = { ...(delayMs > 0 && { delayMs }), ...(wordDelayMs > 0 && { wordDelayMs }) };
    return { runtimeKind: 'echo' as const, runtimeConfig: config };
  }
  checkBaseUrl(runtime.base_url, settings.allowlist);
  const before = previous?.runtimeKind === 'openai' ? (previous.runtimeConfig as OpenAiRuntimeConfig) : undefined;
  const config: OpenAiRuntimeConfig = { baseUrl: runtime.base_url, model: runtime.model, stream: runtime.stream };
  if (runtime.api_key !== undefined) {
    if (!settings.box) {
      throw new AppError(
        'not_configured',
        'Model API keys are stored encrypted, and this server has no LARK_SECRET_KEY. The operator must set it (openssl rand -base64 32) before a key can be saved',
      );
    }
    config.apiKeyCiphertext = sealModelKey(settings.box, { baseUrl: runtime.base_url, apiKey: runtime.api_key });
    return { runtimeKind: 'openai' as const, runtimeConfig: config };
  }
  if (!before || (!before.apiKeyCiphertext && !before.apiKey)) throw invalid('runtime.api_key', 'API key is required');
  // A stored key belongs to the server it was entered for; pointing the agent elsewhere needs a new one.
  if (originOf(before.baseUrl) !== endpointOrigin(runtime.base_url)) {
    throw invalid('runtime.api_key', 'The base URL points to a different server: enter the API key for it. A saved key is only ever sent to the server it was entered for');
  }
  if (before.apiKeyCiphertext) config.apiKeyCiphertext = before.apiKeyCiphertext;
  else if (before.apiKey && settings.box) config.apiKeyCiphertext = sealModelKey(settings.box, { baseUrl: runtime.base_url, apiKey: before.apiKey });
  // Without a secret key an old plaintext key stays as it was; it is sealed once LARK_SECRET_KEY is set.
  else config.apiKey = before.apiKey;
  return { runtimeKind: 'openai' as const, runtimeConfig: config };
}

/** Whether the viewer may point agents at model endpoints: that spends the workspace's keys and makes the server call out. */
export function canConfigureRuntime(viewer: Pick<Viewer, 'role'>): boolean {
  return hasRole(viewer.role, 'admin');
}

/** A runtime sent back exactly as the agent has it (as clients that resend the whole form do) is not a change. */
function isUnchangedRuntime(next: RuntimeInput, current: AgentRow): boolean {
  if (next === null) return current.runtimeKind === null;
  if (next.kind === 'echo') {
    return (
      current.runtimeKind === 'echo' &&
      (next.delay_ms === undefined || next.delay_ms === echoDelayOf(current.runtimeConfig)) &&
      (next.word_delay_ms === undefined || next.word_delay_ms === echoWordDelayOf(current.runtimeConfig))
    );
  }
  if (current.runtimeKind !== 'openai' || next.api_key !== undefined) return false;
  const c = current.runtimeConfig as OpenAiRuntimeConfig;
  return c.baseUrl === next.base_url && c.model === next.model && c.stream === next.stream;
}

/**
 * Members may give their agents no runtime or the echo runtime (no network, no secret); anything
 * that sets, changes or removes a model endpoint is for workspace owners and admins.
 */
function assertMayConfigure(viewer: Viewer, next: RuntimeInput, current?: AgentRow): void {
  if (canConfigureRuntime(viewer)) return;
  if (current && isUnchangedRuntime(next, current)) return;
  if (next?.kind === 'openai' || current?.runtimeKind === 'openai') {
    throw forbidden('Only workspace owners and admins can connect an agent to a model endpoint or change it');
  }
}

export function canEditAgent(a: Pick<AgentRow, 'ownerUserId'>, viewer: Viewer): boolean {
  return a.ownerUserId === viewer.userId || hasRole(viewer.role, 'admin');
}

export async function listAgents(db: DbOrTx, input: { workspaceId: string; includeArchived: boolean }): Promise<AgentWithOwner[]> {
  const rows = await db
    .select({ agent, ownerName: user.name })
    .from(agent)
    .innerJoin(user, eq(user.id, agent.ownerUserId))
    .where(and(eq(agent.workspaceId, input.workspaceId), input.includeArchived ? undefined : isNull(agent.archivedAt)))
    .orderBy(asc(agent.createdAt));
  return rows.map((r) => ({ ...r.agent, ownerName: r.ownerName }));
}

export async function getAgentOrThrow(db: DbOrTx, input: { workspaceId: string; agentId: string }): Promise<AgentWithOwner> {
  const [row] = await db
    .select({ agent, ownerName: user.name })
    .from(agent)
    .innerJoin(user, eq(user.id, agent.ownerUserId))
    .where(and(eq(agent.workspaceId, input.workspaceId), eq(agent.id, input.agentId)));
  if (!row) throw notFound('Agent');
  return { ...row.agent, ownerName: row.ownerName };
}

export async function createAgent(
  db: DbOrTx,
  input: CreateAgentInput & { workspaceId: string; ownerUserId: string; ownerRole: MemberRole },
  settings: RuntimeSettings = runtimeSettingsFromEnv(),
): Promise<AgentWithOwner> {
  assertMayConfigure({ userId: input.ownerUserId, role: input.ownerRole }, input.runtime);
  const [row] = await db
    .insert(agent)
    .values({
      workspaceId: input.workspaceId,
      ownerUserId: input.ownerUserId,
      name: input.name,
      avatarColor: input.avatar_color,
      ...runtimeColumns(input.runtime, settings),
    })
    .returning();
  await emitWorkspaceEvent(db, input.workspaceId, { type: 'agents.changed' });
  return getAgentOrThrow(db, { workspaceId: input.workspaceId, agentId: row.id });
}

export async function updateAgent(
  db: DbOrTx,
  input: UpdateAgentInput & { workspaceId: string; agentId: string; viewer: Viewer },
  settings: RuntimeSettings = runtimeSettingsFromEnv(),
): Promise<AgentWithOwner> {
  const current = await getAgentOrThrow(db, input);
  if (!canEditAgent(current, input.viewer)) throw forbidden('Only the agent owner or a workspace admin can change this agent');
  if (input.runtime !== undefined) assertMayConfigure(input.viewer, input.runtime, current);
  // Computed before the write, so a refused runtime leaves name and colour unchanged too. A member
  // resending the runtime as it is writes nothing; an admin's save re-checks it and seals an old key.
  const next = input.runtime;
  const runtime =
    next !== undefined && (canConfigureRuntime(input.viewer) || !isUnchangedRuntime(next, current)) ? runtimeColumns(next, settings, current) : null;
  await db
    .update(agent)
    .set({
      ...(input.name !== undefined && { name: input.name }),
      ...(input.avatar_color !== undefined && { avatarColor: input.avatar_color }),
      ...runtime,
      updatedAt: new Date(),
    })
    .where(and(eq(agent.workspaceId, input.workspaceId), eq(agent.id, input.agentId)));
  await emitWorkspaceEvent(db, input.workspaceId, { type: 'agents.changed' });
  return getAgentOrThrow(db, input);
}

export async function setAgentArchived(
  db: DbOrTx,
  input: { workspaceId: string; agentId: string; archived: boolean; viewer: Viewer },
): Promise<AgentWithOwner> {
  const current = await getAgentOrThrow(db, input);
  if (!canEditAgent(current, input.viewer)) throw forbidden('Only the agent owner or a workspace admin can archive this agent');
  await db
    .update(agent)
    .set({ archivedAt: input.archived ? (current.archivedAt ?? new Date()) : null, updatedAt: new Date() })
    .where(and(eq(agent.workspaceId, input.workspaceId), eq(agent.id, input.agentId)));
  await emitWorkspaceEvent(db, input.workspaceId, { type: 'agents.changed' });
  return getAgentOrThrow(db, input);
}

/** The API view of an agent: never includes the runtime's API key, sealed or not. */
export function agentView(a: AgentWithOwner, viewer: Viewer): Payload<typeof agentSchema> {
  return {
    id: a.id,
    name: a.name,
    avatar_color: a.avatarColor,
    owner: { id: a.ownerUserId, name: a.ownerName },
    runtime: runtimeView(a),
    archived_at: a.archivedAt,
    created_at: a.createdAt,
    can_edit: canEditAgent(a, viewer),
    can_configure_runtime: canConfigureRuntime(viewer),
  };
}

function runtimeView(a: AgentRow): Payload<typeof agentSchema>['runtime'] {
  if (a.runtimeKind === 'echo') {
    const delayMs = echoDelayOf(a.runtimeConfig);
    const wordDelayMs = echoWordDelayOf(a.runtimeConfig);
    return { kind: 'echo', ...(delayMs > 0 && { delay_ms: delayMs }), ...(wordDelayMs > 0 && { word_delay_ms: wordDelayMs }) };
  }
  if (a.runtimeKind === 'openai') {
    const c = a.runtimeConfig as OpenAiRuntimeConfig;
    return { kind: 'openai', base_url: shownBaseUrl(c.baseUrl), model: c.model, stream: c.stream, has_api_key: Boolean(c.apiKeyCiphertext || c.apiKey) };
  }
  return null;
}

/** Base URLs stored before credentials were refused are shown without them (and without query or fragment). */
function shownBaseUrl(baseUrl: string): string {
  try {
    const url = new URL(baseUrl);
    if (!url.username && !url.password && !url.search && !url.hash) return baseUrl;
    return `${url.origin}${url.pathname}`;
  } catch {
    return '';
  }
}

/**
 * Seals the model API keys that earlier versions stored in plaintext, bound to their agent's
 * current origin. Safe to run from several workers at once: a row is only rewritten while it still
 * holds the plaintext that was read.
 */
export async function sealPlaintextModelKeys(db: DbOrTx, box: SecretBox): Promise<{ sealed: number; skipped: number }> {
  const rows = await db
    .select({ id: agent.id, runtimeConfig: agent.runtimeConfig })
    .from(agent)
    .where(sql`${agent.runtimeConfig} ? 'apiKey'`);
  let sealed = 0;
  let skipped = 0;
  for (const row of rows) {
    const c = row.runtimeConfig as OpenAiRuntimeConfig;
    if (typeof c.apiKey !== 'string' || originOf(c.baseUrl) === null) {
      skipped++;
      continue;
    }
    const { apiKey, ...rest } = c;
    const next: OpenAiRuntimeConfig = { ...rest, apiKeyCiphertext: sealModelKey(box, { baseUrl: c.baseUrl, apiKey }) };
    const updated = await db
      .update(agent)
      .set({ runtimeConfig: next })
      .where(and(eq(agent.id, row.id), sql`${agent.runtimeConfig} ->> 'apiKey' = ${apiKey}`))
      .returning({ id: agent.id });
    sealed += updated.length;
  }
  return { sealed, skipped };
}

/** How many agents still hold a plaintext model key (reported when the server has no LARK_SECRET_KEY). */
export async function countPlaintextModelKeys(db: DbOrTx): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(agent).where(sql`${agent.runtimeConfig} ? 'apiKey'`);
  return row?.n ?? 0;
}
