import { randomBytes, randomUUID } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import { NextRequest } from 'next/server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as download from '@/app/api/workspaces/[id]/attachments/[attachmentId]/route';
import * as workspaces from '@/app/api/workspaces/route';
import { proxy } from '@/proxy';
import { failAttachment, storeAttachmentBytes } from '@/server/attachments/ingest';
import { postgresAttachmentStore } from '@/server/attachments/store';
import { ATTACHMENT_CHUNK_BYTES, attachment, chatMessage, type attachmentKinds } from '@/server/db/schema';
import { contentDisposition } from '@/server/services/attachments';
import { TEST_APP_URL, call, joinByInvitation, signUp, type TestUser } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';
import { seedAgent, seedSession } from '../seed';

let t: TestDatabase;
let owner: TestUser;
let colleague: TestUser;
let outsider: TestUser;
let wsA: string;
let wsB: string;
let messageId: string;

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'ascii'), data])));
  return Buffer.concat([length, Buffer.from(type, 'ascii'), data, crc]);
}

/** A real PNG of noise (noise does not compress), a bit over two of the store's chunks. */
function noisyPng(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.concat(Array.from({ length: height }, () => Buffer.concat([Buffer.from([0]), randomBytes(width * 3)])));
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(rows)), pngChunk('IEND', Buffer.alloc(0))]);
}

const pngBytes = noisyPng(900, 900);
const binBytes = Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 0x80, 0]);
const htmlBytes = Buffer.from('<!doctype html><html><body><script>alert(document.cookie)</script></body></html>');
const ids = { png: '', bin: '', html: '', pending: '', failed: '', jpegNoName: '' };

async function addAttachment(kind: (typeof attachmentKinds)[number], position: number, fileName: string | null): Promise<string> {
  const [row] = await t.db.insert(attachment).values({ workspaceId: wsA, chatMessageId: messageId, kind, position, fileName }).returning({ id: attachment.id });
  return row.id;
}

/** Calls the route like Next.js does and keeps the raw response (the body is bytes, not JSON). */
async function get(user: TestUser | null, workspaceId: string, attachmentId: string, query = ''): Promise<Response> {
  const req = new Request(`${TEST_APP_URL}/api/workspaces/${workspaceId}/attachments/${attachmentId}${query}`, {
    headers: user ? { authorization: `Bearer ${user.token}` } : {},
  });
  return download.GET(req, { params: Promise.resolve({ id: workspaceId, attachmentId }) });
}

/** Reads a body chunk by chunk: the bytes and how many pieces they came in. */
async function readAll(res: Response): Promise<{ bytes: Buffer; pieces: number }> {
  const reader = res.body!.getReader();
  const parts: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return { bytes: Buffer.concat(parts), pieces: parts.length };
}

async function expectNotFound(res: Response): Promise<{ code: string; message: string }> {
  expect(res.status).toBe(404);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe('not_found');
  return body.error;
}

beforeAll(async () => {
  t = await useTestDatabase();
  owner = await signUp('Owner');
  colleague = await signUp('Colleague');
  outsider = await signUp('Outsider');
  wsA = (await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Files A', slug: 'files-a', issue_prefix: 'FA' } })).body.workspace.id;
  wsB = (await call(workspaces.POST, 'POST', { token: outsider.token, body: { name: 'Files B', slug: 'files-b', issue_prefix: 'FB' } })).body.workspace.id;
  await joinByInvitation({ inviter: owner, workspaceId: wsA, invitee: colleague });
  const agentRow = await seedAgent(t.db, { workspaceId: wsA, ownerUserId: owner.id });
  const session = await seedSession(t.db, { workspaceId: wsA, agentId: agentRow.id, creatorUserId: owner.id });
  const [message] = await t.db
    .insert(chatMessage)
    .values({ workspaceId: wsA, sessionId: session.id, role: 'user', content: 'See attached', authorUserId: owner.id, attachmentCount: 6 })
    .returning();
  messageId = message.id;

  ids.png = await addAttachment('image', 0, 'chart.png');
  ids.bin = await addAttachment('file', 1, 'Q1 "résumé" 报告.bin');
  ids.html = await addAttachment('file', 2, 'page.html');
  ids.pending = await addAttachment('image', 3, null);
  ids.failed = await addAttachment('file', 4, 'huge.zip');
  ids.jpegNoName = await addAttachment('image', 5, null);
  const store = postgresAttachmentStore;
  await storeAttachmentBytes(t.db, store, { workspaceId: wsA, attachmentId: ids.png, bytes: pngBytes, fileName: 'chart.png' });
  await storeAttachmentBytes(t.db, store, { workspaceId: wsA, attachmentId: ids.bin, bytes: binBytes, fileName: 'Q1 "résumé" 报告.bin' });
  await storeAttachmentBytes(t.db, store, { workspaceId: wsA, attachmentId: ids.html, bytes: htmlBytes, fileName: 'page.html' });
  await storeAttachmentBytes(t.db, store, { workspaceId: wsA, attachmentId: ids.jpegNoName, bytes: Buffer.concat([Buffer.from('ffd8ffe000104a464946', 'hex'), randomBytes(500)]) });
  await failAttachment(t.db, { workspaceId: wsA, attachmentId: ids.failed, failure: 'too_large', sizeBytes: 42 * 1024 * 1024 });
});

afterAll(async () => {
  await t?.drop();
});

describe('GET /api/workspaces/{id}/attachments/{attachmentId}', () => {
  test("a member who owns the chat gets an image inline with its sniffed type, streamed chunk by chunk, byte for byte", async () => {
    const res = await get(owner, wsA, ids.png);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('content-disposition')).toBe(`inline; filename="chart.png"; filename*=UTF-8''chart.png`);
    expect(res.headers.get('content-length')).toBe(String(pngBytes.length));
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    expect(res.headers.get('cache-control')).toBe('private, max-age=3600');
    const { bytes, pieces } = await readAll(res);
    expect(bytes.equals(pngBytes)).toBe(true);
    // One piece per stored chunk: the file never sat in memory whole.
    expect(pngBytes.length).toBeGreaterThan(2 * ATTACHMENT_CHUNK_BYTES);
    expect(pieces).toBe(Math.ceil(pngBytes.length / ATTACHMENT_CHUNK_BYTES));
  });

  test('?download=1 saves an image instead of showing it', async () => {
    const res = await get(owner, wsA, ids.png, '?download=1');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="chart\.png"/);
    expect((await readAll(res)).bytes.length).toBe(pngBytes.length);
  });

  test('a file is an octet-stream download under its own name, with an ASCII fallback and the UTF-8 name', async () => {
    const res = await get(owner, wsA, ids.bin);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="Q1 _resume_ __.bin"; filename*=UTF-8''Q1%20%22r%C3%A9sum%C3%A9%22%20%E6%8A%A5%E5%91%8A.bin`,
    );
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await readAll(res)).bytes.equals(binBytes)).toBe(true);
  });

  test('an HTML file is never served as HTML, not even when asked to show it', async () => {
    for (const query of ['', '?download=0']) {
      const res = await get(owner, wsA, ids.html, query);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="page\.html"/);
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
      expect((await readAll(res)).bytes.equals(htmlBytes)).toBe(true);
    }
  });

  test('an image without a name is named after its kind, id and type', async () => {
    const res = await get(owner, wsA, ids.jpegNoName);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('content-disposition')).toBe(`inline; filename="image-${ids.jpegNoName.slice(0, 8)}.jpg"; filename*=UTF-8''image-${ids.jpegNoName.slice(0, 8)}.jpg`);
    await readAll(res);
  });

  test('whoever may not see the chat gets the same 404 as for an id that exists nowhere', async () => {
    const nowhere = await expectNotFound(await get(owner, wsA, randomUUID()));
    // A member of B, through B's workspace id: A's attachment is no attachment of B.
    expect(await expectNotFound(await get(outsider, wsB, ids.png))).toEqual(nowhere);
    // ...and through A's id: not a member of A.
    expect((await expectNotFound(await get(outsider, wsA, ids.png))).message).toBe('Workspace not found');
    // A member of A who did not start the chat.
    expect(await expectNotFound(await get(colleague, wsA, ids.png))).toEqual(nowhere);
    expect(await expectNotFound(await get(colleague, wsA, ids.bin, '?download=1'))).toEqual(nowhere);
    // The owner of A asking through B's id (not a member of B).
    expect((await expectNotFound(await get(owner, wsB, ids.png))).message).toBe('Workspace not found');
  });

  test('an attachment not downloaded yet, or never, is a 404 that says so', async () => {
    const pending = await expectNotFound(await get(owner, wsA, ids.pending));
    expect(pending.message).toMatch(/not downloaded yet/);
    const failed = await expectNotFound(await get(owner, wsA, ids.failed));
    expect(failed.message).toMatch(/not downloaded: it is larger than this server accepts/);
    // Outsiders learn nothing about either state.
    expect((await expectNotFound(await get(colleague, wsA, ids.failed))).message).toBe('Attachment not found');
  });

  test('an id that is not a uuid is a 404; no sign-in is a 401', async () => {
    expect((await expectNotFound(await get(owner, wsA, 'not-a-uuid'))).message).toBe('Attachment not found');
    expect((await get(null, wsA, ids.png)).status).toBe(401);
  });

  test('a name cannot break out of its header value or name a path', () => {
    expect(contentDisposition('attachment', '../x\r\n"y";z%41.txt')).toBe(`attachment; filename=".._x___y__z_41.txt"; filename*=UTF-8''.._x__%22y%22%3Bz%2541.txt`);
    expect(contentDisposition('inline', "it's (1)*.png")).toBe(`inline; filename="it's (1)*.png"; filename*=UTF-8''it%27s%20%281%29%2A.png`);
  });

  test('the proxy, which sets its policy before the route can, gives a download the sandboxed one and pages their own', () => {
    const csp = (path: string) => proxy(new NextRequest(`${TEST_APP_URL}${path}`)).headers.get('content-security-policy');
    expect(csp(`/api/workspaces/${wsA}/attachments/${ids.png}`)).toBe("default-src 'none'; sandbox");
    expect(csp(`/api/workspaces/${wsA}/attachments/${ids.png}?download=1`)).toBe("default-src 'none'; sandbox");
    expect(csp(`/w/files-a/chat`)).toContain("script-src 'self' 'nonce-");
    expect(csp(`/api/workspaces/${wsA}/chat/sessions`)).toContain("default-src 'self'");
  });
});
