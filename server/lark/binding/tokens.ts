import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { inTransaction } from '../../db/transaction';
import { and, eq, isNull, ne, sql } from 'drizzle-orm';
import type { SecretBox } from '../../crypto/secretbox';
import type { DbOrTx } from '../../db/client';
import { agent, larkBindingToken, larkInstallation, larkUserBinding, member, workspace } from '../../db/schema';
import { AppError, conflict, forbidden } from '../../errors';
import { LarkHttpClient, type FetchLike } from '../api';
import type { LarkIntegration } from '../integration';

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
const notMember = (workspaceName: string) =>
  forbidden(`You are not a member of the workspace "${workspaceName}". Ask an admin to add you, then open the link again.`);
const boundElsewhere = () => conflict('This Lark account is already connected to another Larkspur account.');

/** A Lark name lookup must not hold up the page for long: past this, the page says "a Lark account". */
const PREVIEW_NAME_TIMEOUT_MS = 4_000;

export type BindingPreview = {
  larkUserName: string | null;
  agent: { id: string; name: string };
  workspace: { id: string; name: string; slug: string };
  expiresAt: Date;
};

/**
 * What redeeming this token would link, for the confirmation page: read only, the token stays
 * unused. The same refusals as the redemption (gone, not a member, bound to someone else), so the
 * page can say so before anyone confirms. The Lark user's name is asked of Lark with the
 * installation's credentials; when Lark does not answer it is null.
 */
export async function previewBindingToken(
  db: DbOrTx,
  deps: { integration: LarkIntegration; logger: Logger; fetch?: FetchLike },
  input: { token: string; userId: string },
): Promise<BindingPreview> {
  const [row] = await db
    .select({
      larkOpenId: larkBindingToken.larkOpenId,
      expiresAt: larkBindingToken.expiresAt,
      workspace: { id: workspace.id, name: workspace.name, slug: workspace.slug },
      agent: { id: agent.id, name: agent.name },
      installation: { id: larkInstallation.id, appId: larkInstallation.appId, region: larkInstallation.region, appSecretCiphertext: larkInstallation.appSecretCiphertext },
    })
    .from(larkBindingToken)
    .innerJoin(larkInstallation, and(eq(larkInstallation.id, larkBindingToken.installationId), eq(larkInstallation.workspaceId, larkBindingToken.workspaceId)))
    .innerJoin(workspace, eq(workspace.id, larkInstallation.workspaceId))
    .innerJoin(agent, and(eq(agent.id, larkInstallation.agentId), eq(agent.workspaceId, larkInstallation.workspaceId)))
    .where(
      and(
        eq(larkBindingToken.tokenHash, hashBindingToken(input.token)),
        isNull(larkBindingToken.consumedAt),
        sql`${larkBindingToken.expiresAt} > now()`,
        eq(larkInstallation.status, 'active'),
      ),
    );
  if (!row) throw gone();
  const [membership] = await db
    .select({ role: member.role })
    .from(member)
    .where(and(eq(member.workspaceId, row.workspace.id), eq(member.userId, input.userId)));
  if (!membership) throw notMember(row.workspace.name);
  const [existing] = await db
    .select({ userId: larkUserBinding.userId })
    .from(larkUserBinding)
    .where(and(eq(larkUserBinding.installationId, row.installation.id), eq(larkUserBinding.larkOpenId, row.larkOpenId)));
  if (existing && existing.userId !== input.userId) throw boundElsewhere();
  return {
    larkUserName: await larkUserName(deps, row.installation, row.larkOpenId),
    agent: row.agent,
    workspace: row.workspace,
    expiresAt: row.expiresAt,
  };
}

async function larkUserName(
  deps: { integration: LarkIntegration; logger: Logger; fetch?: FetchLike },
  installation: { id: string; appId: string; region: 'feishu' | 'lark'; appSecretCiphertext: string },
  openId: string,
): Promise<string | null> {
  const box = deps.integration.box;
  if (!box) return null;
  try {
    const client = new LarkHttpClient({
      appId: installation.appId,
      appSecret: box.open(installation.appSecretCiphertext),
      region: installation.region,
      hosts: deps.integration.hosts,
      requestTimeoutMs: Math.min(deps.integration.httpTimeoutMs, PREVIEW_NAME_TIMEOUT_MS),
      fetch: deps.fetch,
      logger: deps.logger,
      installationId: installation.id,
    });
    const name = (await client.getUser(openId)).name?.trim();
    return name ? name : null;
  } catch (err) {
    deps.logger.warn({ err, installationId: installation.id }, 'could not ask Lark for the name of the user a binding link is for');
    return null;
  }
}

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
    if (!membership) throw notMember(context.workspace.name);
    const bound = await tx
      .insert(larkUserBinding)
      .values({ workspaceId: consumed.workspaceId, installationId: consumed.installationId, userId: input.userId, larkOpenId: consumed.larkOpenId })
      .onConflictDoUpdate({
        target: [larkUserBinding.installationId, larkUserBinding.larkOpenId],
        set: { boundAt: new Date() },
        setWhere: sql`${larkUserBinding.userId} = excluded.user_id`,
      })
      .returning({ id: larkUserBinding.id });
    if (bound.length === 0) throw boundElsewhere();
    return {
      workspace: { id: context.workspace.id, name: context.workspace.name, slug: context.workspace.slug },
      agent: { id: context.agentId, name: context.agentName },
    };
  });
}
