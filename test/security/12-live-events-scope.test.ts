import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as messages from '@/app/api/workspaces/[id]/chat/sessions/[sessionId]/messages/route';
import * as sessions from '@/app/api/workspaces/[id]/chat/sessions/route';
import * as issues from '@/app/api/workspaces/[id]/issues/route';
import * as memberOne from '@/app/api/workspaces/[id]/members/[userId]/route';
import { member } from '@/server/db/schema';
import { WORKSPACE_EVENTS_CHANNEL } from '@/server/events';
import { call, signUp, type TestUser } from '../api';
import { openEventStream, until, type EventStream } from '../event-stream';
import { useTestDatabase, type TestDatabase } from '../db';
import { seedAgent, seedWorkspace } from '../seed';

// Two members watch the same workspace's live events. Chat sessions are private to their creator:
// the other member must not learn their ids (or that they are active), and a member who is removed
// must stop receiving anything at once, not when they happen to reconnect.


let t: TestDatabase;
let owner: TestUser;
let other: TestUser;
let workspaceId: string;
let agentId: string;
const streams: EventStream[] = [];

beforeAll(async () => {
  t = await useTestDatabase();
  owner = await signUp('Owner');
  other = await signUp('Other member');
  const ws = await seedWorkspace(t.db, owner.id);
  workspaceId = ws.id;
  // Directly, so the test does not depend on how people join.
  await t.db.insert(member).values({ workspaceId, userId: other.id, role: 'member' });
  agentId = (await seedAgent(t.db, { workspaceId, ownerUserId: owner.id })).id;
});
afterAll(async () => {
  for (const s of streams) s.stop();
  await t?.drop();
});

async function openStream(user: TestUser): Promise<EventStream> {
  const stream = await openEventStream(user, workspaceId);
  expect(stream.status).toBe(200);
  streams.push(stream);
  return stream;
}

/** An event every member may see, to know both streams are live (LISTEN is set up asynchronously). */
async function probe(streamsToCheck: EventStream[]) {
  const res = await call(issues.POST, 'POST', { token: owner.token, params: { id: workspaceId }, body: { title: `probe ${Date.now()}` } });
  expect(res.status).toBe(201);
  const issueId = res.body.issue.id as string;
  for (const s of streamsToCheck) await until(() => s.events.some((e) => e.type === 'issue.created' && e.issue_id === issueId), 'the probe event');
}

describe('live workspace events', () => {
  // First in the file: this process's listener has not connected yet when the stream opens.
  test("an event sent the moment the stream's response arrives reaches it", async () => {
    const stream = await openStream(other);
    const marker = `first-${Date.now()}`;
    await t.db.execute(sql`SELECT pg_notify(${WORKSPACE_EVENTS_CHANNEL}, ${JSON.stringify({ type: 'issue.created', workspace_id: workspaceId, issue_id: marker })})`);
    await until(() => stream.events.some((e) => e.issue_id === marker), 'the first event', 5_000);
    stream.stop();
  });

  test("events about a member's private chat session reach only that member", async () => {
    const ownerStream = await openStream(owner);
    const otherStream = await openStream(other);
    await probe([ownerStream, otherStream]);

    const created = await call(sessions.POST, 'POST', { token: owner.token, params: { id: workspaceId }, body: { agent_id: agentId } });
    expect(created.status).toBe(201);
    const privateSession = created.body.session.id as string;
    const sent = await call(messages.POST, 'POST', { token: owner.token, params: { id: workspaceId, sessionId: privateSession }, body: { content: 'my secret plans' } });
    expect(sent.status).toBe(201);
    await until(() => ownerStream.events.some((e) => e.type === 'chat.message.created' && e.session_id === privateSession), "the owner's own event");
    // Anything sent after those events has reached both streams by the time the probe arrives.
    await probe([ownerStream, otherStream]);

    expect(otherStream.events.filter((e) => e.session_id === privateSession)).toEqual([]);
    expect(otherStream.events.some((e) => e.type === 'chat.message.created' || e.type === 'task.updated')).toBe(false);
    // Nothing internal rides along either.
    for (const e of [...ownerStream.events, ...otherStream.events]) {
      expect(e).not.toHaveProperty('workspace_id');
      expect(e).not.toHaveProperty('session_creator_id');
    }
    ownerStream.stop();
    otherStream.stop();
  });

  test('removing a member closes their stream at once', async () => {
    const otherStream = await openStream(other);
    await probe([otherStream]);
    try {
      const removed = await call(memberOne.DELETE, 'DELETE', { token: owner.token, params: { id: workspaceId, userId: other.id } });
      expect(removed.status).toBe(204);
      await until(() => otherStream.isClosed(), 'the removed member’s stream to close', 5_000);
    } finally {
      await t.db.insert(member).values({ workspaceId, userId: other.id, role: 'member' }).onConflictDoNothing();
    }
  });

  test('a removal that sends no notice still closes the stream by the next heartbeat', async () => {
    const otherStream = await openStream(other);
    await probe([otherStream]);
    // Straight in the database: no members.changed notice is sent.
    await t.db.delete(member).where(and(eq(member.workspaceId, workspaceId), eq(member.userId, other.id)));
    await until(() => otherStream.isClosed(), 'the stream to close within a heartbeat', 20_000);
  }, 40_000);
});
