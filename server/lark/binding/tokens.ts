import { createHash, randomBytes } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, DbOrTx } from '../../db/client';
import { agent, larkBindingToken, larkInstallation, larkUserBinding, member, workspace } from '../../db/schema';
import { AppError, conflict, forbidden } from '../../errors';

/** The product's cap; the table's CHECK enforces the same bound with the database clock. */
export const BINDING_TOKEN_TTL_MINUTES = 15;

export const hashBindingToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * Mints a single-use token for a Lark user to bind their identity. Only its hash is stored; the raw
 * value goes into the prompt's link and nowhere else. A retried prompt replaces its own earlier token.
 */
export async function mintBindingToken(
  db: DbOrTx,
  input: { workspaceId: string; installationId: string; larkOpenId: string; outboxId: string },
): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await db.delete(larkBindingToken).where(and(eq(larkBindingToken.outboxId, input.outboxId), sql`${larkBindingToken.consumedAt} IS NULL`));
  await db.insert(larkBindingToken).values({
    tokenHash: hashBindingToken(token),
    workspaceId: input.workspaceId,
    installationId: input.installationId,
    larkOpenId: input.larkOpenId,
    outboxId: input.outboxId,
    createdAt: sql`now()`,
    expiresAt: sql`now() + make_interval(mins => ${BINDING_TOKEN_TTL_MINUTES})`,
  });
  return token;
}

export const redeemInput = z.object({ token: z.string().min(1, 'token is required').max(200) });

const gone = () => new AppError('gone', 'This link is invalid, already used or expired. Send the bot a message to get a new one.');

/**
 * Binds the signed-in user (never anyone named by the token) to the Lark identity the token was
 * minted for. Consume, membership check and bind commit together; a refusal leaves the token unused.
 */
export async function redeemBindingToken(db: Db, input: { token: string; userId: string }) {
  return db.transaction(async (tx) => {
    const [consumed] = await tx
      .update(larkBindingToken)
      .set({ consumedAt: sql`now()` })
      .where(and(eq(larkBindingToken.tokenHash, hashBindingToken(input.token)), sql`${larkBindingToken.consumedAt} IS NULL`, sql`${larkBindingToken.expiresAt} > now()`))
      .returning();
    if (!consumed) throw gone();
    const [context] = await tx
      .select({ workspace, agentId: agent.id, agentName: agent.name, status: larkInstallation.status })
      .from(larkInstallation)
      .innerJoin(workspace, eq(workspace.id, larkInstallation.workspaceId))
      .innerJoin(agent, and(eq(agent.id, larkInstallation.agentId), eq(agent.workspaceId, larkInstallation.workspaceId)))
      .where(and(eq(larkInstallation.id, consumed.installationId), eq(larkInstallation.workspaceId, consumed.workspaceId)));
    if (!context || context.status !== 'active') throw gone();
    const [membership] = await tx
      .select({ role: member.role })
      .from(member)
      .where(and(eq(member.workspaceId, consumed.workspaceId), eq(member.userId, input.userId)));
    if (!membership) throw forbidden(`You are not a member of the workspace "${context.workspace.name}". Ask an admin to add you, then open the link again.`);
    const bound = await tx
      .insert(larkUserBinding)
      .values({ workspaceId: consumed.workspaceId, installationId: consumed.installationId, userId: input.userId, larkOpenId: consumed.larkOpenId })
      .onConflictDoUpdate({
        target: [larkUserBinding.installationId, larkUserBinding.larkOpenId],
        set: { boundAt: new Date() },
        setWhere: sql`${larkUserBinding.userId} = excluded.user_id`,
      })
      .returning({ id: larkUserBinding.id });
    if (bound.length === 0) throw conflict('This Lark account is already connected to another Larkspur account.');
    return {
      workspace: { id: context.workspace.id, name: context.workspace.name, slug: context.workspace.slug },
      agent: { id: context.agentId, name: context.agentName },
    };
  });
}
