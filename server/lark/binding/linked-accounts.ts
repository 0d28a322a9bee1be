import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { Payload } from '../../contract/shared';
import type { larkLinkedAccountSchema } from '../../contract/lark';
import type { DbOrTx } from '../../db/client';
import { agent, larkInstallation, larkUserBinding, user } from '../../db/schema';
import { notFound } from '../../errors';

export type LarkLinkedAccountView = Payload<typeof larkLinkedAccountSchema>;

/** `ou_1a2b3c…9f0e`: enough to tell two unnamed accounts apart, short enough for a table cell. */
export function shortOpenId(openId: string): string {
  return openId.length <= 14 ? openId : `${openId.slice(0, 8)}…${openId.slice(-4)}`;
}

async function selectLinkedAccounts(db: DbOrTx, where: SQL | undefined): Promise<LarkLinkedAccountView[]> {
  const rows = await db
    .select({
      id: larkUserBinding.id,
      installationId: larkUserBinding.installationId,
      larkOpenId: larkUserBinding.larkOpenId,
      larkName: larkUserBinding.larkName,
      boundAt: larkUserBinding.boundAt,
      userId: larkUserBinding.userId,
      userName: user.name,
      userEmail: user.email,
      agentId: agent.id,
      agentName: agent.name,
      agentColor: agent.avatarColor,
      region: larkInstallation.region,
      status: larkInstallation.status,
    })
    .from(larkUserBinding)
    .innerJoin(larkInstallation, and(eq(larkInstallation.id, larkUserBinding.installationId), eq(larkInstallation.workspaceId, larkUserBinding.workspaceId)))
    .innerJoin(agent, and(eq(agent.id, larkInstallation.agentId), eq(agent.workspaceId, larkInstallation.workspaceId)))
    .innerJoin(user, eq(user.id, larkUserBinding.userId))
    .where(where)
    .orderBy(desc(larkUserBinding.boundAt), desc(larkUserBinding.id));
  return rows.map((r) => ({
    id: r.id,
    installation_id: r.installationId,
    bot: { agent_id: r.agentId, name: r.agentName, avatar: r.agentColor, region: r.region, status: r.status },
    lark_user: { name: r.larkName, open_id_hint: shortOpenId(r.larkOpenId) },
    member: { user_id: r.userId, name: r.userName, email: r.userEmail },
    bound_at: r.boundAt,
  }));
}

/** The Lark accounts a member linked in this workspace, through any of its bots. */
export function listMyLarkAccounts(db: DbOrTx, input: { workspaceId: string; userId: string }): Promise<LarkLinkedAccountView[]> {
  return selectLinkedAccounts(db, and(eq(larkUserBinding.workspaceId, input.workspaceId), eq(larkUserBinding.userId, input.userId)));
}

/** Everyone linked through one bot of the workspace (for owners and admins; the route checks the role). */
export async function listInstallationLarkAccounts(db: DbOrTx, input: { workspaceId: string; installationId: string }): Promise<LarkLinkedAccountView[]> {
  const [inst] = await db
    .select({ id: larkInstallation.id })
    .from(larkInstallation)
    .where(and(eq(larkInstallation.workspaceId, input.workspaceId), eq(larkInstallation.id, input.installationId)));
  if (!inst) throw notFound('Installation');
  return selectLinkedAccounts(db, and(eq(larkUserBinding.workspaceId, input.workspaceId), eq(larkUserBinding.installationId, input.installationId)));
}
