import { and, eq } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/db';
import { seedAgent, seedSession, seedUser, seedWorkspace } from '../../test/seed';
import { ATTACHMENT_CHUNK_BYTES, attachment, attachmentChunk } from '../db/schema';
import { WORKSPACE_EVENTS_CHANNEL } from '../events';
import { echoChartPng } from '../agent-runs/runtime/echo';
import { appendUserMessage } from '../services/chat';
import { storeAttachmentBytes } from './ingest';
import { postgresAttachmentStore, readAttachmentBytes } from './store';

// Storing an attachment's bytes, on a real database: one chunk in one statement, more in a
// transaction, and either way exactly the last bytes stored, with the row and the event that say so.

let t: TestDatabase;
let events: pg.Client;
const received: Array<{ type: string; message_id?: string; workspace_id?: string }> = [];
beforeAll(async () => {
  t = await createTestDatabase();
  events = new pg.Client({ connectionString: t.url });
  await events.connect();
  events.on('notification', (n) => received.push(JSON.parse(n.payload ?? '{}')));
  await events.query(`LISTEN ${WORKSPACE_EVENTS_CHANNEL}`);
});
afterAll(async () => {
  await events?.end();
  await t?.drop();
});

async function pendingImage() {
  const u = await seedUser(t.db);
  const ws = await seedWorkspace(t.db, u.id);
  const a = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: u.id });
  const s = await seedSession(t.db, { workspaceId: ws.id, agentId: a.id, creatorUserId: u.id });
  const m = await appendUserMessage(t.db, { workspaceId: ws.id, sessionId: s.id, authorUserId: u.id, content: 'see this' });
  const [row] = await t.db.insert(attachment).values({ workspaceId: ws.id, chatMessageId: m.id, position: 0, kind: 'image', source: 'message' }).returning();
  return { ws, s, m, row, ref: { workspaceId: ws.id, attachmentId: row.id } };
}

const chunksOf = (ref: { workspaceId: string; attachmentId: string }) =>
  t.db
    .select({ seq: attachmentChunk.seq, size: attachmentChunk.bytes })
    .from(attachmentChunk)
    .where(and(eq(attachmentChunk.workspaceId, ref.workspaceId), eq(attachmentChunk.attachmentId, ref.attachmentId)))
    .orderBy(attachmentChunk.seq);

async function updatesOf(messageId: string) {
  const updated = () => received.filter((e) => e.message_id === messageId && e.type === 'chat.message.updated');
  for (let i = 0; i < 50 && updated().length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  return updated();
}

describe('storeAttachmentBytes', () => {
  test('a one-chunk image is stored and marked with its sniffed type and size, and the message views hear of it', async () => {
    const { ws, s, m, row, ref } = await pendingImage();
    const png = echoChartPng();
    const result = await storeAttachmentBytes(t.db, postgresAttachmentStore, { ...ref, bytes: png, fileName: 'shot.png', sessionId: s.id });
    expect(result).toEqual({ contentType: 'image/png', sizeBytes: png.length });
    const [stored] = await t.db.select().from(attachment).where(eq(attachment.id, row.id));
    expect(stored).toMatchObject({ state: 'stored', contentType: 'image/png', sizeBytes: png.length, fileName: 'shot.png', storage: 'postgres', failure: null });
    expect(stored.storedAt).toBeInstanceOf(Date);
    expect(await readAttachmentBytes(postgresAttachmentStore, t.db, ref)).toEqual(png);
    const heard = await updatesOf(m.id);
    expect(heard).toEqual([expect.objectContaining({ type: 'chat.message.updated', message_id: m.id, workspace_id: ws.id })]);
  });

  test('storing again replaces what an earlier, longer copy left, whichever way each copy was stored', async () => {
    const { ref } = await pendingImage();
    const long = Buffer.alloc(ATTACHMENT_CHUNK_BYTES * 2 + 10, 1);
    await storeAttachmentBytes(t.db, postgresAttachmentStore, { ...ref, bytes: long });
    expect((await chunksOf(ref)).map((c) => c.seq)).toEqual([0, 1, 2]);

    const short = Buffer.alloc(1000, 2);
    await storeAttachmentBytes(t.db, postgresAttachmentStore, { ...ref, bytes: short });
    expect((await chunksOf(ref)).map((c) => c.seq)).toEqual([0]);
    expect(await readAttachmentBytes(postgresAttachmentStore, t.db, ref)).toEqual(short);

    const [row] = await t.db.select().from(attachment).where(eq(attachment.id, ref.attachmentId));
    expect(row.sizeBytes).toBe(1000);
  });

  test('an empty file leaves no chunk, and a name the message carried is kept', async () => {
    const { ref } = await pendingImage();
    await t.db.update(attachment).set({ fileName: 'given.txt' }).where(eq(attachment.id, ref.attachmentId));
    await storeAttachmentBytes(t.db, postgresAttachmentStore, { ...ref, bytes: Buffer.alloc(3000, 3) });
    await storeAttachmentBytes(t.db, postgresAttachmentStore, { ...ref, bytes: Buffer.alloc(0), fileName: 'download.txt' });
    expect(await chunksOf(ref)).toEqual([]);
    const [row] = await t.db.select().from(attachment).where(eq(attachment.id, ref.attachmentId));
    expect(row).toMatchObject({ state: 'stored', sizeBytes: 0, fileName: 'given.txt' });
  });

  test('bytes for an attachment of another workspace are refused and change nothing', async () => {
    const { ref } = await pendingImage();
    const other = await pendingImage();
    await expect(storeAttachmentBytes(t.db, postgresAttachmentStore, { workspaceId: other.ws.id, attachmentId: ref.attachmentId, bytes: Buffer.alloc(10, 1) })).rejects.toThrow();
    expect(await chunksOf(ref)).toEqual([]);
    const [row] = await t.db.select().from(attachment).where(eq(attachment.id, ref.attachmentId));
    expect(row.state).toBe('pending');
  });
});
