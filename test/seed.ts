import { randomUUID } from 'node:crypto';
import type { Db } from '../server/db/client';
import { agent, chatSession, member, user, workspace } from '../server/db/schema';

/** Inserts a user row directly (no password) for tests that don't go through sign-in. */
export async function seedUser(db: Db, name = 'Seeded User') {
  const [u] = await db
    .insert(user)
    .values({ id: randomUUID(), name, email: `${randomUUID()}@example.com` })
    .returning();
  return u;
}

export async function seedWorkspace(db: Db, ownerId: string, slug = `ws-${randomUUID().slice(0, 8)}`) {
  const [ws] = await db.insert(workspace).values({ name: slug, slug, issuePrefix: 'MUL' }).returning();
  await db.insert(member).values({ workspaceId: ws.id, userId: ownerId, role: 'owner' });
  return ws;
}

export async function seedAgent(
  db: Db,
  input: { workspaceId: string; ownerUserId: string; name?: string } & Partial<Pick<typeof agent.$inferInsert, 'runtimeKind' | 'runtimeConfig'>>,
) {
  const [a] = await db
    .insert(agent)
    .values({
      workspaceId: input.workspaceId,
      ownerUserId: input.ownerUserId,
      name: input.name ?? 'Echo',
      avatarColor: '#336699',
      runtimeKind: input.runtimeKind === undefined ? 'echo' : input.runtimeKind,
      runtimeConfig: input.runtimeConfig ?? {},
    })
    .returning();
  return a;
}

export async function seedSession(db: Db, input: { workspaceId: string; agentId: string; creatorUserId: string }) {
  const [s] = await db.insert(chatSession).values({ ...input, title: 'Test chat' }).returning();
  return s;
}
