import { and, asc, eq, isNull } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { agent, user, type MemberRole, type OpenAiRuntimeConfig } from '../db/schema';
import type { agentSchema, CreateAgentInput, RuntimeInput, UpdateAgentInput } from '../contract/agents';
import type { Payload } from '../contract/shared';
import { AppError, forbidden, notFound } from '../errors';
import { emitWorkspaceEvent } from '../events';
import { hasRole } from '../auth/roles';

export type AgentRow = typeof agent.$inferSelect;
export type AgentWithOwner = AgentRow & { ownerName: string };

function runtimeColumns(runtime: RuntimeInput, previous?: AgentRow) {
  if (runtime === null) return { runtimeKind: null, runtimeConfig: {} };
  if (runtime.kind === 'echo') return { runtimeKind: 'echo' as const, runtimeConfig: {} };
  const previousKey =
    previous?.runtimeKind === 'openai' ? (previous.runtimeConfig as OpenAiRuntimeConfig).apiKey : undefined;
  const apiKey = runtime.api_key ?? previousKey;
  if (!apiKey) throw new AppError('validation_failed', 'runtime.api_key: API key is required', { 'runtime.api_key': 'API key is required' });
  const config: OpenAiRuntimeConfig = { baseUrl: runtime.base_url, model: runtime.model, apiKey, stream: runtime.stream };
  return { runtimeKind: 'openai' as const, runtimeConfig: config };
}

export function canEditAgent(a: Pick<AgentRow, 'ownerUserId'>, viewer: { userId: string; role: MemberRole }): boolean {
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
  input: CreateAgentInput & { workspaceId: string; ownerUserId: string },
): Promise<AgentWithOwner> {
  const [row] = await db
    .insert(agent)
    .values({
      workspaceId: input.workspaceId,
      ownerUserId: input.ownerUserId,
      name: input.name,
      avatarColor: input.avatar_color,
      ...runtimeColumns(input.runtime),
    })
    .returning();
  await emitWorkspaceEvent(db, input.workspaceId, { type: 'agents.changed' });
  return getAgentOrThrow(db, { workspaceId: input.workspaceId, agentId: row.id });
}

export async function updateAgent(
  db: DbOrTx,
  input: UpdateAgentInput & { workspaceId: string; agentId: string; viewer: { userId: string; role: MemberRole } },
): Promise<AgentWithOwner> {
  const current = await getAgentOrThrow(db, input);
  if (!canEditAgent(current, input.viewer)) throw forbidden('Only the agent owner or a workspace admin can change this agent');
  await db
    .update(agent)
    .set({
      ...(input.name !== undefined && { name: input.name }),
      ...(input.avatar_color !== undefined && { avatarColor: input.avatar_color }),
      ...(input.runtime !== undefined && runtimeColumns(input.runtime, current)),
      updatedAt: new Date(),
    })
    .where(and(eq(agent.workspaceId, input.workspaceId), eq(agent.id, input.agentId)));
  await emitWorkspaceEvent(db, input.workspaceId, { type: 'agents.changed' });
  return getAgentOrThrow(db, input);
}

export async function setAgentArchived(
  db: DbOrTx,
  input: { workspaceId: string; agentId: string; archived: boolean; viewer: { userId: string; role: MemberRole } },
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

/** The API view of an agent: never includes the runtime's API key. */
export function agentView(a: AgentWithOwner, viewer: { userId: string; role: MemberRole }): Payload<typeof agentSchema> {
  return {
    id: a.id,
    name: a.name,
    avatar_color: a.avatarColor,
    owner: { id: a.ownerUserId, name: a.ownerName },
    runtime: runtimeView(a),
    archived_at: a.archivedAt,
    created_at: a.createdAt,
    can_edit: canEditAgent(a, viewer),
  };
}

function runtimeView(a: AgentRow): Payload<typeof agentSchema>['runtime'] {
  if (a.runtimeKind === 'echo') return { kind: 'echo' };
  if (a.runtimeKind === 'openai') {
    const c = a.runtimeConfig as OpenAiRuntimeConfig;
    return { kind: 'openai', base_url: c.baseUrl, model: c.model, stream: c.stream, has_api_key: Boolean(c.apiKey) };
  }
  return null;
}
