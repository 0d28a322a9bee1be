import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as sessions from '@/app/api/workspaces/[id]/chat/sessions/route';
import * as workspaces from '@/app/api/workspaces/route';
import { chatSession } from '@/server/db/schema';
import { resetEnvForTests } from '@/server/env';
import { call, signUp, type TestUser } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';
import { seedAgent } from '../seed';

// Anyone can sign up; without limits one account can create workspaces and chats until the
// database is full. The limits answer with the contract's error codes and hold under concurrency.

let t: TestDatabase;
let counter = 0;

beforeAll(async () => {
  t = await useTestDatabase();
  process.env.MAX_WORKSPACES_PER_USER = '2';
  process.env.MAX_CHAT_SESSIONS_PER_HOUR = '3';
  resetEnvForTests();
});
afterAll(async () => {
  delete process.env.MAX_WORKSPACES_PER_USER;
  delete process.env.MAX_CHAT_SESSIONS_PER_HOUR;
  resetEnvForTests();
  await t?.drop();
});

function createWorkspace(user: TestUser) {
  counter += 1;
  const slug = `quota-${counter}-${Date.now().toString(36)}`;
  return call(workspaces.POST, 'POST', { token: user.token, body: { name: slug, slug, issue_prefix: 'QT' } });
}

describe('workspace quota', () => {
  test('a user may own at most MAX_WORKSPACES_PER_USER workspaces; the next one is a 409 quota_exceeded', async () => {
    const user = await signUp('Hoarder');
    expect((await createWorkspace(user)).status).toBe(201);
    expect((await createWorkspace(user)).status).toBe(201);
    const refused = await createWorkspace(user);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('quota_exceeded');
    expect(refused.body.error.message).toContain('2');
    // Someone else is not affected.
    expect((await createWorkspace(await signUp('Neighbour'))).status).toBe(201);
  });

  test('concurrent requests cannot overshoot the limit', async () => {
    const user = await signUp('Racer');
    const results = await Promise.all(Array.from({ length: 6 }, () => createWorkspace(user)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(2);
    expect(results.filter((r) => r.status === 409 && r.body.error.code === 'quota_exceeded')).toHaveLength(4);
  });
});

describe('chat session quota', () => {
  test('at most MAX_CHAT_SESSIONS_PER_HOUR new chats per user and workspace in an hour; the next one is a 429 rate_limited', async () => {
    const user = await signUp('Chatter');
    const created = await createWorkspace(user);
    const workspaceId = created.body.workspace.id as string;
    const agent = await seedAgent(t.db, { workspaceId, ownerUserId: user.id });
    const start = () => call(sessions.POST, 'POST', { token: user.token, params: { id: workspaceId }, body: { agent_id: agent.id } });

    const burst = await Promise.all(Array.from({ length: 5 }, start));
    expect(burst.filter((r) => r.status === 201)).toHaveLength(3);
    const refused = burst.filter((r) => r.status === 429);
    expect(refused).toHaveLength(2);
    expect(refused[0].body.error.code).toBe('rate_limited');

    // An hour later the window has moved on.
    await t.db
      .update(chatSession)
      .set({ createdAt: sql`now() - interval '61 minutes'`, updatedAt: sql`now() - interval '61 minutes'` })
      .where(and(eq(chatSession.workspaceId, workspaceId), eq(chatSession.creatorUserId, user.id)));
    expect((await start()).status).toBe(201);
  });
});
