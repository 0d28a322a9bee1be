import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import * as messagesRoute from '@/app/api/workspaces/[id]/chat/sessions/[sessionId]/messages/route';
import { failAttachment, storeAttachmentBytes } from '@/server/attachments/ingest';
import { postgresAttachmentStore } from '@/server/attachments/store';
import { agentContextSchema, attachmentSchema, type AgentContext } from '@/server/contract/attachments';
import { attachment, chatMessage } from '@/server/db/schema';
import { listChatMessages } from '@/server/services/chat';
import { call, signUp, type TestUser } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';
import { seedAgent, seedSession, seedWorkspace } from '../seed';

let t: TestDatabase;
let owner: TestUser;
let wsId: string;
let sessionId: string;
let questionId: string;
let answerId: string;
let plainId: string;
const ids = { photo: '', quoted: '', forwarded: '', chart: '', pending: '', failed: '' };

const context: AgentContext = {
  quoted: { sender: 'Mei', text: 'The Q3 numbers are in the sheet', sent_at: '2026-03-01T09:00:00.000Z' },
  forwarded: [],
  recent: [
    { sender: 'Mei', text: 'Morning all', sent_at: '2026-03-01T08:55:00.000Z' },
    { sender: 'Ravi', text: 'Who has the deck?', sent_at: null },
  ],
  recent_scope: 'chat',
  unavailable: ['forwarded'],
};

async function add(values: Partial<typeof attachment.$inferInsert> & Pick<typeof attachment.$inferInsert, 'chatMessageId' | 'kind'>): Promise<string> {
  const [row] = await t.db.insert(attachment).values({ workspaceId: wsId, ...values }).returning({ id: attachment.id });
  return row.id;
}

beforeAll(async () => {
  t = await useTestDatabase();
  owner = await signUp('Owner');
  const ws = await seedWorkspace(t.db, owner.id);
  wsId = ws.id;
  const agentRow = await seedAgent(t.db, { workspaceId: wsId, ownerUserId: owner.id });
  sessionId = (await seedSession(t.db, { workspaceId: wsId, agentId: agentRow.id, creatorUserId: owner.id })).id;
  const at = (s: number) => new Date(Date.UTC(2026, 2, 1, 10, 0, s));
  const [question, answer, plain] = await t.db
    .insert(chatMessage)
    .values([
      { workspaceId: wsId, sessionId, role: 'user', content: 'What does this show?', authorUserId: owner.id, attachmentCount: 3, agentContext: context, createdAt: at(1) },
      { workspaceId: wsId, sessionId, role: 'assistant', content: 'Here is the chart:\n\n![chart](attachment:x)', attachmentCount: 3, createdAt: at(2) },
      { workspaceId: wsId, sessionId, role: 'user', content: 'Thanks', authorUserId: owner.id, createdAt: at(3) },
    ])
    .returning();
  questionId = question.id;
  answerId = answer.id;
  plainId = plain.id;
  // Inserted out of order: the list follows position, not insertion.
  ids.forwarded = await add({ chatMessageId: questionId, kind: 'file', source: 'forwarded', position: 0, fileName: 'notes.txt' });
  ids.quoted = await add({ chatMessageId: questionId, kind: 'image', source: 'quoted', position: 0 });
  ids.photo = await add({ chatMessageId: questionId, kind: 'image', source: 'message', position: 0, fileName: 'photo.png' });
  ids.failed = await add({ chatMessageId: answerId, kind: 'file', source: 'agent', position: 2, fileName: 'big.csv' });
  ids.pending = await add({ chatMessageId: answerId, kind: 'file', source: 'agent', position: 1, fileName: 'later.pdf' });
  ids.chart = await add({ chatMessageId: answerId, kind: 'image', source: 'agent', position: 0, fileName: 'chart.png' });
  await storeAttachmentBytes(t.db, postgresAttachmentStore, { workspaceId: wsId, attachmentId: ids.photo, bytes: Buffer.from('not really a photo'), fileName: 'photo.png' });
  await storeAttachmentBytes(t.db, postgresAttachmentStore, { workspaceId: wsId, attachmentId: ids.chart, bytes: Buffer.from('a,b\n1,2\n'), fileName: 'chart.png' });
  await failAttachment(t.db, { workspaceId: wsId, attachmentId: ids.failed, failure: 'too_large', sizeBytes: 44_040_192 });

  // Another workspace's attachment on a message id of its own must never leak into this list.
  const other = await seedWorkspace(t.db, owner.id);
  const otherAgent = await seedAgent(t.db, { workspaceId: other.id, ownerUserId: owner.id });
  const otherSession = await seedSession(t.db, { workspaceId: other.id, agentId: otherAgent.id, creatorUserId: owner.id });
  const [otherMessage] = await t.db.insert(chatMessage).values({ workspaceId: other.id, sessionId: otherSession.id, role: 'user', content: 'elsewhere', attachmentCount: 1 }).returning();
  await t.db.insert(attachment).values({ workspaceId: other.id, chatMessageId: otherMessage.id, kind: 'file', fileName: 'secret.txt' });
});

afterAll(async () => {
  await t?.drop();
});

describe('listChatMessages with attachments and context', () => {
  test("each message carries its attachments in position order, with a download url once stored, and a question its context", async () => {
    const { messages } = await listChatMessages(t.db, { workspaceId: wsId, sessionId });
    const byId = new Map(messages.map((m) => [m.id, m]));
    const url = (id: string) => `/api/workspaces/${wsId}/attachments/${id}`;

    const question = byId.get(questionId)!;
    expect(question.attachments?.map((a) => [a.source, a.id])).toEqual([
      ['forwarded', ids.forwarded],
      ['message', ids.photo],
      ['quoted', ids.quoted],
    ]);
    expect(question.attachments?.find((a) => a.id === ids.photo)).toEqual({
      id: ids.photo,
      kind: 'image',
      source: 'message',
      file_name: 'photo.png',
      content_type: 'text/plain',
      size_bytes: 18,
      state: 'stored',
      failure: null,
      url: url(ids.photo),
    });
    expect(question.attachments?.find((a) => a.id === ids.quoted)).toMatchObject({ state: 'pending', url: null, file_name: null });
    expect(question.context).toEqual(context);

    const answer = byId.get(answerId)!;
    expect(answer.attachments?.map((a) => [a.id, a.state, a.failure, a.url])).toEqual([
      [ids.chart, 'stored', null, url(ids.chart)],
      [ids.pending, 'pending', null, null],
      [ids.failed, 'failed', 'too_large', null],
    ]);
    expect(answer.attachments?.[2].size_bytes).toBe(44_040_192);
    expect(answer.context).toBeNull();

    expect(byId.get(plainId)).toMatchObject({ attachments: [], context: null });
  });

  test('the messages route answers them, and they pass the contract', async () => {
    const res = await call(messagesRoute.GET, 'GET', { token: owner.token, params: { id: wsId, sessionId } });
    expect(res.status).toBe(200);
    const messages = res.body.messages as { id: string; attachments: unknown; context: unknown }[];
    const attachments = messages.flatMap((m) => z.array(attachmentSchema).parse(m.attachments));
    expect(attachments.map((a) => a.file_name)).not.toContain('secret.txt');
    expect(attachments).toHaveLength(6);
    expect(agentContextSchema.parse(messages.find((m) => m.id === questionId)?.context)).toEqual(context);
  });

  test('a message whose count says it has no attachments costs no attachment read', async () => {
    // The count gates the read: rows the count does not announce are not looked for.
    await t.db.insert(attachment).values({ workspaceId: wsId, chatMessageId: plainId, kind: 'file', fileName: 'unannounced.txt' });
    const { messages } = await listChatMessages(t.db, { workspaceId: wsId, sessionId });
    expect(messages.find((m) => m.id === plainId)?.attachments).toEqual([]);
  });

  test('a stored context of another shape shows as none instead of breaking the history', async () => {
    await t.db.execute(sql`UPDATE chat_message SET agent_context = '{"quoted": 5}'::jsonb WHERE id = ${plainId}`);
    const { messages } = await listChatMessages(t.db, { workspaceId: wsId, sessionId });
    expect(messages.find((m) => m.id === plainId)?.context).toBeNull();
  });
});
