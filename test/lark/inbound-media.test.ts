import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { asc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as workspaces from '@/app/api/workspaces/route';
import * as messagesRoute from '@/app/api/workspaces/[id]/chat/sessions/[sessionId]/messages/route';
import { attachment, chatMessage, larkInboundMessage } from '@/server/db/schema';
import { postgresAttachmentStore, readAttachmentBytes } from '@/server/attachments/store';
import type { AgentContext } from '@/server/contract/attachments';
import { call, signUp, type TestUser } from '../api';
import type { TestDatabase } from '../db';
import { waitFor, type Sim } from './sim';
import { startLarkHarness, type LarkBot, type LarkHarness } from './worker-harness';

// What a Lark user sends besides words reaches the agent: images (shown to vision models), files
// (text inlined, the rest described, the oversized named as such), the message a question quotes,
// a forwarded bundle and the recent conversation of a group, all fetched after the ACK and stored.

const MAX_BYTES = 2 * 1024 * 1024;
const CONTEXT_MESSAGES = 4;

let lark: LarkHarness;
let t: TestDatabase;
let sim: Sim;
let owner: TestUser;
let ws: { id: string };
let echoBot: LarkBot;
let modelBot: LarkBot;
let model: { url: string; requests: Array<{ messages: Array<{ role: string; content: unknown }> }>; close(): Promise<void> };

/** A model endpoint on a real socket that records what it is sent and answers in one word. */
async function startModel(): Promise<typeof model> {
  const requests: typeof model.requests = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw) as { messages: Array<{ role: string; content: unknown }> };
      requests.push({ messages: body.messages });
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'Seen.' }, finish_reason: 'stop' }] }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

/** The chat message a Lark message became, with its attachments (in order) once none is waiting. */
async function storedWithFiles(larkMessageId: string) {
  return waitFor(
    async () => {
      const [m] = await t.db
        .select({ id: chatMessage.id, content: chatMessage.content, context: chatMessage.agentContext, count: chatMessage.attachmentCount })
        .from(larkInboundMessage)
        .innerJoin(chatMessage, eq(chatMessage.id, larkInboundMessage.chatMessageId))
        .where(eq(larkInboundMessage.larkMessageId, larkMessageId));
      if (!m) return null;
      // Its run has begun answering: everything it fetched first is stored.
      const done = await t.db.execute<{ status: string; attempts: number; error: string | null }>(
        sql`SELECT status, attempts, error FROM agent_task WHERE trigger_message_id = ${m.id}::uuid AND status IN ('completed', 'failed')`,
      );
      if (done.rows.length === 0) return null;
      const files = await t.db.select().from(attachment).where(eq(attachment.chatMessageId, m.id)).orderBy(asc(attachment.source), asc(attachment.position));
      // How its run ended, to tell an answer without context from a run that failed.
      return { ...m, files, run: done.rows[0] };
    },
    20_000,
    `${larkMessageId} stored with its files`,
  );
}

/** The bot's text answer in a chat that contains `needle`. */
const answerContaining = (chatId: string, needle: string) =>
  waitFor(
    async () => {
      const messages = await lark.botMessages(chatId);
      return messages.find((m) => JSON.stringify(m.content).includes(needle));
    },
    20_000,
    `an answer containing ${needle}`,
  );

const simBytes = async (key: string) => Buffer.from(await (await fetch(`${sim.url}/_control/media/${key}`)).arrayBuffer());

beforeAll(async () => {
  model = await startModel();
  lark = await startLarkHarness({
    env: {
      ATTACHMENT_MAX_BYTES: String(MAX_BYTES),
      LARK_CONTEXT_MESSAGES: String(CONTEXT_MESSAGES),
      LARK_CONTEXT_MINUTES: '30',
      AGENT_ENDPOINT_ALLOWLIST: '127.0.0.1',
    },
  });
  ({ t, sim } = lark);
  await lark.startWorker({ nodeId: 'inbound-media-test' });
  owner = await signUp('Owner');
  ws = (await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Media', slug: 'media-in', issue_prefix: 'MED' } })).body.workspace;
  echoBot = await lark.installBot({ workspaceId: ws.id, installer: owner, name: 'Echo', runtime: { runtimeKind: 'echo' } });
  modelBot = await lark.installBot({
    workspaceId: ws.id,
    installer: owner,
    name: 'Vision',
    runtime: { runtimeKind: 'openai', runtimeConfig: { baseUrl: model.url, model: 'vision-test', apiKey: 'sk-test', stream: false } },
  });
}, 90_000);

afterAll(async () => {
  await lark?.close();
  await model?.close();
});

describe('images', () => {
  test('a screenshot sent in a direct chat is stored with its real type and shown to the agent', async () => {
    const u = await lark.newUser('Mei');
    await lark.bind(echoBot, u.id, owner);
    const sent = await lark.dm(echoBot, u.id, '', { text: undefined, image: { sample: 'screenshot' } });
    const stored = await storedWithFiles(sent.message_id);
    expect(stored.content).toBe('');
    expect(stored.files).toHaveLength(1);
    const [file] = stored.files;
    expect(file).toMatchObject({ kind: 'image', state: 'stored', contentType: 'image/png', source: 'message' });
    // The bytes are exactly what the user sent.
    const key = (await lark.transcript(sent.chat_id)).find((m) => m.message_id === sent.message_id)!.media[0].key as string;
    const bytes = await readAttachmentBytes(postgresAttachmentStore, t.db, { workspaceId: ws.id, attachmentId: file.id });
    expect(bytes.equals(await simBytes(key))).toBe(true);
    expect(file.sizeBytes).toBe(bytes.length);
    // The echo agent says it saw an image (it was given as an image, not a placeholder).
    await answerContaining(sent.chat_id, 'I see image');
    // The web chat lists it with the question, downloadable by the member whose conversation it is.
    const [{ sessionId }] = await t.db.select({ sessionId: chatMessage.sessionId }).from(chatMessage).where(eq(chatMessage.id, stored.id));
    const listed = await call(messagesRoute.GET, 'GET', { token: owner.token, params: { id: ws.id, sessionId } });
    const question = (listed.body.messages as Array<{ id: string; attachments: Array<{ id: string; url: string | null; content_type: string }> }>).find((m) => m.id === stored.id)!;
    expect(question.attachments).toEqual([expect.objectContaining({ id: file.id, content_type: 'image/png', url: `/api/workspaces/${ws.id}/attachments/${file.id}` })]);
  });

  test('a vision model gets the image as an image part of the question', async () => {
    const u = await lark.newUser('Ren');
    await lark.bind(modelBot, u.id, owner);
    const sent = await lark.dm(modelBot, u.id, '', { text: undefined, image: { sample: 'photo' } });
    await answerContaining(sent.chat_id, 'Seen.');
    const request = model.requests.at(-1)!;
    const question = request.messages.at(-1)!;
    expect(question.role).toBe('user');
    const parts = question.content as Array<{ type: string; image_url?: { url: string }; text?: string }>;
    const image = parts.find((p) => p.type === 'image_url')!;
    const key = (await lark.transcript(sent.chat_id)).find((m) => m.message_id === sent.message_id)!.media[0].key as string;
    const original = await simBytes(key);
    expect(image.image_url!.url).toMatch(/^data:image\/(png|jpeg);base64,/);
    expect(Buffer.from(image.image_url!.url.split(',')[1], 'base64').equals(original)).toBe(true);
  });

  test('a post with an image and words gives both', async () => {
    const u = await lark.newUser('Ola');
    await lark.bind(echoBot, u.id, owner);
    const sent = await lark.dm(echoBot, u.id, '', {
      text: undefined,
      post: { title: 'Bug', content: [[{ tag: 'text', text: 'the login page looks like this' }], [{ tag: 'img', sample: 'screenshot' }]] },
    });
    const stored = await storedWithFiles(sent.message_id);
    expect(stored.content).toBe('Bug\nthe login page looks like this');
    expect(stored.files.map((f) => [f.kind, f.state])).toEqual([['image', 'stored']]);
    await answerContaining(sent.chat_id, 'I see image');
  });
});

describe('files', () => {
  test('an oversized file becomes a placeholder with its reason, and the message is still answered', async () => {
    const u = await lark.newUser('Big');
    await lark.bind(echoBot, u.id, owner);
    const sent = await lark.dm(echoBot, u.id, '', { text: undefined, file: { size_bytes: MAX_BYTES + 1024 * 1024, file_name: 'dump.bin' } });
    const stored = await storedWithFiles(sent.message_id);
    expect(stored.files[0]).toMatchObject({ state: 'failed', failure: 'too_large', fileName: 'dump.bin' });
    const chunks = await t.db.execute(sql`SELECT count(*)::int AS n FROM attachment_chunk WHERE attachment_id = ${stored.files[0].id}::uuid`);
    expect(chunks.rows[0]).toEqual({ n: 0 });
    await answerContaining(sent.chat_id, 'not available, too large to download');
  });

  test('a transient download failure is retried and the file arrives', async () => {
    const u = await lark.newUser('Flaky');
    await lark.bind(echoBot, u.id, owner);
    await sim.control('POST', '/faults', { kind: 'rest_error', app_id: echoBot.appId, path: '/resources/', http_status: 500, code: 1, count: 1 });
    const sent = await lark.dm(echoBot, u.id, '', { text: undefined, file: { sample: 'notes' } });
    const stored = await storedWithFiles(sent.message_id);
    expect(stored.files[0]).toMatchObject({ state: 'stored', contentType: 'text/plain' });
    expect(stored.files[0].attempts).toBe(2);
    await answerContaining(sent.chat_id, 'I read');
  });

  test('a sticker cannot be downloaded: the agent is told so', async () => {
    const u = await lark.newUser('Sticky');
    await lark.bind(echoBot, u.id, owner);
    const sent = await lark.dm(echoBot, u.id, '', { text: undefined, sticker: {} });
    const stored = await storedWithFiles(sent.message_id);
    expect(stored.files[0]).toMatchObject({ kind: 'sticker', state: 'failed', failure: 'not_downloadable' });
    await answerContaining(sent.chat_id, 'Lark does not allow downloading it');
  });

  test('a voice message with recognized words is answered by its words', async () => {
    const u = await lark.newUser('Voice');
    await lark.bind(echoBot, u.id, owner);
    const sent = await lark.dm(echoBot, u.id, '', { text: undefined, audio: { duration_ms: 3000, speech_to_text: 'ship it on Friday' } });
    const stored = await storedWithFiles(sent.message_id);
    expect(stored.content).toBe('ship it on Friday');
    expect(stored.files[0]).toMatchObject({ kind: 'audio', state: 'stored' });
    await answerContaining(sent.chat_id, 'You said: \\"ship it on Friday\\"');
  });
});

describe('context', () => {
  test('a group @-mention gets its quoted file inlined, the quoted message and the recent conversation, delimited, in order, bounded', async () => {
    const [a, b] = [await lark.newUser('Ana'), await lark.newUser('Bo')];
    await lark.bind(echoBot, a.id, owner, 'Ana');
    const { chat_id: chatId } = await sim.control('POST', '/chats', { tenant_key: lark.tenantKey, name: 'Ops', user_ids: [a.id, b.id], app_ids: [echoBot.appId] });
    // Six messages not for the bot (they are not answered, but they are the conversation).
    for (let i = 1; i <= 6; i++) await sim.control('POST', '/messages', { user_id: i % 2 ? b.id : a.id, chat_id: chatId, text: `step ${i}` });
    const notes = await sim.control('POST', '/messages', { user_id: b.id, chat_id: chatId, file: { sample: 'notes' } });
    const asked = await sim.control('POST', '/messages', { user_id: a.id, chat_id: chatId, text: `@{app:${echoBot.appId}} what do you think of this?`, reply_to: notes.message_id });
    const stored = await storedWithFiles(asked.message_id);
    expect(stored.context, `the question's context, stored by its run (${JSON.stringify(stored.run)})`).not.toBeNull();
    const context = stored.context as AgentContext;
    // Only the last CONTEXT_MESSAGES before the question, oldest first.
    expect(context.recent_scope).toBe('chat');
    expect(context.recent).toHaveLength(CONTEXT_MESSAGES);
    expect(context.recent.map((m) => m.text)).toEqual(['step 4', 'step 5', 'step 6', '[file: notes.txt]']);
    expect(context.recent.map((m) => m.sender)).toEqual(['Ana', expect.stringMatching(/^Lark user …/), 'Ana', expect.stringMatching(/^Lark user …/)]);
    expect(context.quoted).toMatchObject({ text: '[file: notes.txt]' });
    expect(context.unavailable).toEqual([]);
    // The quoted file is the question's too, downloaded and inlined for the agent.
    expect(stored.files).toEqual([expect.objectContaining({ source: 'quoted', kind: 'file', state: 'stored', contentType: 'text/plain' })]);
    const answer = await answerContaining(chatId, 'I read');
    const text = JSON.stringify(answer.content);
    expect(text).toContain('Context: the quoted message from');
    expect(text).toContain(`${CONTEXT_MESSAGES} recent messages`);
  });

  test('a merged forward is expanded into its messages', async () => {
    const u = await lark.newUser('Fwd');
    await lark.bind(echoBot, u.id, owner);
    const other = await lark.newUser('Kai');
    const { chat_id: source } = await sim.control('POST', '/chats', { tenant_key: lark.tenantKey, name: 'Source', user_ids: [u.id, other.id], app_ids: [] });
    const first = await sim.control('POST', '/messages', { user_id: other.id, chat_id: source, text: 'the deploy failed at 3am' });
    const second = await sim.control('POST', '/messages', { user_id: u.id, chat_id: source, text: 'rolling back now' });
    const sent = await lark.dm(echoBot, u.id, '', { text: undefined, merge_forward: { message_ids: [first.message_id, second.message_id] } });
    const stored = await storedWithFiles(sent.message_id);
    const context = stored.context as AgentContext;
    expect(context.forwarded.map((m) => m.text)).toEqual(['the deploy failed at 3am', 'rolling back now']);
    expect(context.recent).toEqual([]);
    await answerContaining(sent.chat_id, '2 forwarded messages');
  });

  test('context that cannot be fetched degrades to none, and the question is still answered', async () => {
    const u = await lark.newUser('Quiet');
    await lark.bind(echoBot, u.id, owner);
    const first = await lark.dm(echoBot, u.id, 'first thought');
    await answerContaining(first.chat_id, 'first thought');
    await sim.control('POST', '/faults', { kind: 'rest_error', app_id: echoBot.appId, path: `/im/v1/messages/${first.message_id}`, http_status: 400, code: 230002, count: -1 });
    const sent = await lark.dm(echoBot, u.id, 'about that', { reply_to: first.message_id });
    const stored = await storedWithFiles(sent.message_id);
    expect((stored.context as AgentContext).unavailable).toEqual(['quoted']);
    await answerContaining(sent.chat_id, 'You said: \\"about that\\"');
    await sim.control('DELETE', '/faults');
  });
});

describe('workspace boundary', () => {
  test('attachment rows and chunks are only ever of the question\'s workspace', async () => {
    const rows = await t.db.select({ ws: attachment.workspaceId }).from(attachment);
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.ws))).toEqual(new Set([ws.id]));
    const mismatched = await t.db.execute(sql`SELECT count(*)::int AS n FROM attachment_chunk c JOIN attachment a ON a.id = c.attachment_id WHERE a.workspace_id <> c.workspace_id`);
    expect(mismatched.rows[0]).toEqual({ n: 0 });
  });
});
