import { createHash } from 'node:crypto';
import { inTransaction } from '../../db/transaction';
import { and, eq, isNull, ne, sql } from 'drizzle-orm';
import type { SecretBox } from '../../crypto/secretbox';
import type { DbOrTx } from '../../db/client';
import { agent, larkBindingToken, larkInstallation, larkUserBinding, member, workspace } from '../../db/schema';
import { AppError, conflict, forbidden } from '../../errors';

/** The product's cap; the table's CHECK enforces the same bound with the database clock. */
export const BINDING_TOKEN_TTL_MINUTES = 15;

export const hashBindingToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * Mints the single-use token of one binding prompt. Only its hash is stored; the raw value goes into
 * the prompt's link and nowhere else. The token is derived from the prompt's outbox row under the
 * deployment's secret key, so every send attempt of that prompt carries the same link: when Lark
 * took a first attempt whose answer was lost, the card the user holds still works.
 */
export async function mintBindingToken(
  db: DbOrTx,
  box: SecretBox,
  input: { workspaceId: string; installationId: string; larkOpenId: string; outboxId: string },
): Promise<string> {
  const token = box.derive('binding-token', input.outboxId);
  await db
    .insert(larkBindingToken)
    .values({
    tokenHash: hashBindingToken(token),
    workspaceId: input.workspaceId,
    installationId: input.installationId,
    larkOpenId: input.larkOpenId,
    outboxId: input.outboxId,
    createdAt: sql`now()`,
    expiresAt: sql`now() + make_interval(mins => ${BINDING_TOKEN_TTL_MINUTES})`,
    })
    // A retry of the same prompt: the token is already stored, with its original expiry.
    .onConflictDoNothing();
  return token;
}

/**
 * Whether this Lark user already holds a live binding prompt (unused, unexpired token): one prompt at
 * a time, so a user who keeps typing is not spammed. `exceptOutboxId` leaves out the prompt being sent.
 */
export async function hasLiveBindingPrompt(db: DbOrTx, input: { installationId: string; larkOpenId: string; exceptOutboxId?: string }): Promise<boolean> {
  const [live] = await db
    .select({ hash: larkBindingToken.tokenHash })
    .from(larkBindingToken)
    .where(
      and(
        eq(larkBindingToken.installationId, input.installationId),
        eq(larkBindingToken.larkOpenId, input.larkOpenId),
        isNull(larkBindingToken.consumedAt),
        sql`${larkBindingToken.expiresAt} > now()`,
        input.exceptOutboxId ? ne(larkBindingToken.outboxId, input.exceptOutboxId) : undefined,
      ),
    )
    .limit(1);
  return live !== undefined;
}

const gone = () => new AppError('gone', 'This link is invalid, already used or expired. Send the bot a message to get a new one.');

/**
 * Binds the signed-in user (never anyone named by the token) to the Lark identity the token was
 * minted for. Consume, membership check and bind commit together; a refusal leaves the token unused.
 */
export async function redeemBindingToken(db: DbOrTx, input: { token: string; userId: string }) {
  return inTransaction(db, async (tx) => {
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
