import { and, asc, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../../db/client';
import { agent, user, type MemberRole, type OpenAiRuntimeConfig } from '../../db/schema';
import { AppError, forbidden, notFound } from '../../errors';
import { emitWorkspaceEvent } from '../../events';
import { hasRole } from '../../auth/roles';

const avatarColor = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'Use a colour like #4f46e5');
const agentName = z.string().trim().min(1, 'Name is required').max(80, 'Name is at most 80 characters');

const openAiRuntime = z.object({
  kind: z.literal('openai'),
  base_url: z.url({ protocol: /^https?$/, message: 'Base URL must be an http(s) URL' }),
  model: z.string().trim().min(1, 'Model is required').max(200),
  api_key: z.string().min(1).max(500).optional(),
  stream: z.boolean().default(false),
});
export const runtimeInput = z.union([z.null(), z.object({ kind: z.literal('echo') }), openAiRuntime]);
export type RuntimeInput = z.infer<typeof runtimeInput>;

export const createAgentInput = z.object({ name: agentName, avatar_color: avatarColor, runtime: runtimeInput.default(null) });
export const updateAgentInput = z
  .object({ name: agentName.optional(), avatar_color: avatarColor.optional(), runtime: runtimeInput.optional() })
  .refine((v) => Object.keys(v).length > 0, 'Nothing to update');

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
  input: z.infer<typeof createAgentInput> & { workspaceId: string; ownerUserId: string },
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
  input: z.infer<typeof updateAgentInput> & { workspaceId: string; agentId: string; viewer: { userId: string; role: MemberRole } },
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
export function agentView(a: AgentWithOwner, viewer: { userId: string; role: MemberRole }) {
  let runtime: null | { kind: 'echo' } | { kind: 'openai'; base_url: string; model: string; stream: boolean; has_api_key: boolean } =
    null;
  if (a.runtimeKind === 'echo') runtime = { kind: 'echo' };
  if (a.runtimeKind === 'openai') {
    const c = a.runtimeConfig as OpenAiRuntimeConfig;
    runtime = { kind: 'openai', base_url: c.baseUrl, model: c.model, stream: c.stream, has_api_key: Boolean(c.apiKey) };
  }
  return {
    id: a.id,
    name: a.name,
    avatar_color: a.avatarColor,
    owner: { id: a.ownerUserId, name: a.ownerName },
    runtime,
    archived_at: a.archivedAt,
    created_at: a.createdAt,
    can_edit: canEditAgent(a, viewer),
  };
}
