import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as workspaces from '@/app/api/workspaces/route';
import { storeAttachmentBytes } from '@/server/attachments/ingest';
import { postgresAttachmentStore, readAttachmentBytes } from '@/server/attachments/store';
import { attachment } from '@/server/db/schema';
import { LarkHttpClient } from '@/server/lark/api';
import { enqueueOutboxMessage, type OutboxBody } from '@/server/lark/outbound/outbox';
import { LarkAnswerStream, streamLabels } from '@/server/lark/outbound/stream-card';
import { call, signUp, type TestUser } from '../api';
import type { TestDatabase } from '../db';
import { waitFor, type Sim } from './sim';
import { startLarkHarness, type LarkBot, type LarkHarness, type SentMessage, type SimMessage } from './worker-harness';

// The images and files an agent produces reach Lark with its answer: images in its cards by the
// image_key the bot uploaded, files as messages of their own, and what Lark will not take as a link.

let lark: LarkHarness;
let t: TestDatabase;
let sim: Sim;
let owner: TestUser;
let ws: { id: string; slug: string };

const APP_URL = 'http://localhost:3999';
const IMAGE_KEY = /^img_v3_/;
// A real 1x1 PNG: the simulator, like Lark, takes only real image bytes.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const MB = 1024 * 1024;

type Upload = { key: string; kind: string; size: number; file_name: string | null; file_type: string | null };
type CardOp = { kind: string; code: number };
type OutboxRow = { id: string; status: string; attempts: number; lark_message_ids: string[]; last_error: string | null };

const uploadsOf = async (bot: LarkBot) => (await sim.control<{ uploads: Upload[] }>('GET', `/uploads?app_id=${bot.appId}`)).uploads;
const mediaBytes = async (key: string) => Buffer.from(await (await fetch(`${sim.url}/_control/media/${key}`)).arrayBuffer());
const storedBytes = (attachmentId: string) => readAttachmentBytes(postgresAttachmentStore, t.db, { workspaceId: ws.id, attachmentId });
const downloadUrl = (attachmentId: string) => `${APP_URL}/api/workspaces/${ws.id}/attachments/${attachmentId}`;

/** The markdown a card shows (its answer element, else its first markdown). */
function cardText(content: Record<string, unknown>): string {
  const elements = ((content.body as { elements?: Array<{ element_id?: string; tag: string; content?: string }> } | undefined)?.elements ?? []).filter((e) => e.tag === 'markdown');
  return (elements.find((e) => e.element_id === 'answer') ?? elements[0])?.content ?? '';
}
const textOf = (m: SimMessage) => (m.msg_type === 'text' ? String(m.content.text) : cardText(m.content));

/** The targets of the markdown images a card shows. */
const imageTargets = (markdown: string) => [...markdown.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]);

function newBot(name: string, runtimeConfig: Record<string, unknown> = {}): Promise<LarkBot> {
  return lark.installBot({ workspaceId: ws.id, installer: owner, name, runtime: { runtimeKind: 'echo', runtimeConfig }, region: 'lark' });
}

async function completedTaskOf(larkMessageId: string): Promise<{ id: string; session_id: string }> {
  return waitFor(async () => {
    const res = await t.db.execute<{ id: string; status: string; session_id: string }>(sql`
      SELECT t.id, t.status, t.session_id FROM agent_task t JOIN lark_inbound_message l ON l.chat_message_id = t.trigger_message_id
      WHERE l.lark_message_id = ${larkMessageId} ORDER BY t.seq DESC LIMIT 1`);
    return res.rows[0]?.status === 'completed' ? res.rows[0] : null;
  }, 30_000, 'the run completed');
}

const settledRow = (where: ReturnType<typeof sql>) =>
  waitFor(async () => {
    const res = await t.db.execute<OutboxRow>(sql`SELECT id, status, attempts, lark_message_ids, last_error FROM lark_outbox WHERE ${where}`);
    return res.rows[0] && res.rows[0].status !== 'pending' ? res.rows[0] : null;
  }, 30_000, 'the answer delivered');

/** The messages a delivered row left in Lark, in the order it sent them. */
async function messagesOf(chatId: string, row: OutboxRow): Promise<SimMessage[]> {
  const transcript = await lark.transcript(chatId);
  return row.lark_message_ids.map((id) => transcript.find((m) => m.message_id === id)!);
}

/** A question a linked Lark user asked the bot, answered by the agent (a short text, no media). */
type Run = { bot: LarkBot; user: { id: string }; sent: SentMessage; taskId: string; answerId: string };

async function answeredQuestion(bot: LarkBot, name: string): Promise<Run> {
  const user = await lark.newUser(name);
  await lark.bind(bot, user.id, owner);
  const sent = await lark.dm(bot, user.id, 'hello there');
  const task = await completedTaskOf(sent.message_id);
  await settledRow(sql`task_id = ${task.id}::uuid AND kind = 'agent_reply'`);
  const res = await t.db.execute<{ id: string }>(sql`SELECT id FROM chat_message WHERE session_id = ${task.session_id}::uuid AND role = 'assistant' ORDER BY created_at DESC LIMIT 1`);
  return { bot, user, sent, taskId: task.id, answerId: res.rows[0].id };
}

type AgentFile = { kind: 'image' | 'file'; name: string; bytes: Buffer };

/** Stores the agent's files as attachments of the run's answer, as the runner does. */
async function storeAgentFiles(run: Run, files: AgentFile[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [position, file] of files.entries()) {
    const [row] = await t.db
      .insert(attachment)
      .values({ workspaceId: ws.id, chatMessageId: run.answerId, taskId: run.taskId, source: 'agent', position, kind: file.kind, fileName: file.name, state: 'pending' })
      .returning({ id: attachment.id });
    await storeAttachmentBytes(t.db, postgresAttachmentStore, { workspaceId: ws.id, attachmentId: row.id, bytes: file.bytes, fileName: file.name });
    ids.push(row.id);
  }
  return ids;
}

/**
 * Delivers an answer of the run with these files: `text(ids)` is its text, referring to them as
 * `attachment:<id>`. Returns the outbox row once settled and the messages it sent.
 */
async function deliverAnswer(run: Run, files: AgentFile[], text: (ids: string[]) => string, extra: Partial<Extract<OutboxBody, { kind: 'agent_reply' }>> = {}) {
  const ids = await storeAgentFiles(run, files);
  const outboxId = await enqueueOutboxMessage(t.db, {
    workspaceId: ws.id,
    installationId: run.bot.installationId,
    target: { receiveIdType: 'chat_id', receiveId: run.sent.chat_id },
    body: { kind: 'agent_reply', text: text(ids), ...extra },
    taskId: run.taskId,
  });
  const row = await settledRow(sql`id = ${outboxId}::uuid`);
  return { ids, row, messages: await messagesOf(run.sent.chat_id, row) };
}

beforeAll(async () => {
  // A Lark (international) tenant: the bot speaks English on the automatic setting.
  lark = await startLarkHarness({ env: { APP_URL }, tenant: { brand: 'lark', name: 'Media Co' } });
  ({ t, sim } = lark);
  await lark.startWorker({ nodeId: 'outbound-media-test' });
  owner = await signUp('Owner');
  ws = (await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Media Co', slug: 'media-co', issue_prefix: 'MED' } })).body.workspace;
}, 60_000);

afterAll(async () => {
  await lark?.close();
});

describe('images in answers', () => {
  test('an image the answer shows is uploaded and embedded in its card by image_key', async () => {
    const run = await answeredQuestion(await newBot('Painter'), 'Pia');
    const { ids, row, messages } = await deliverAnswer(run, [{ kind: 'image', name: 'chart.png', bytes: PNG }], ([id]) => `Here is a chart:\n\n![chart](attachment:${id})`);
    expect(row.status).toBe('sent');
    expect(messages).toHaveLength(1);
    const [card] = messages;
    expect(card.msg_type).toBe('interactive');
    const targets = imageTargets(cardText(card.content));
    expect(targets).toHaveLength(1);
    expect(targets[0]).toMatch(IMAGE_KEY);
    // The key is one this bot uploaded, holding the attachment's bytes.
    const uploads = await uploadsOf(run.bot);
    expect(uploads.map((u) => u.key)).toEqual(targets);
    expect(uploads[0].kind).toBe('image');
    expect((await mediaBytes(targets[0])).equals(await storedBytes(ids[0]))).toBe(true);
  }, 60_000);

  test('while an answer streams its image is a mark; the closed card shows the uploaded image', async () => {
    const bot = await newBot('Sketcher');
    const run = await answeredQuestion(bot, 'Sam');
    // The run streamed its text, a data URL image in it, into a card (as the task hooks do).
    const client = new LarkHttpClient({ appId: bot.appId, appSecret: bot.appSecret, region: 'lark', hosts: lark.integration.hosts, logger: pino({ level: 'silent' }) });
    const stream = new LarkAnswerStream({
      db: t.db,
      client,
      logger: pino({ level: 'silent' }),
      workspaceId: ws.id,
      installationId: bot.installationId,
      taskId: run.taskId,
      attempt: 1,
      target: { replyToMessageId: run.sent.message_id, replyInThread: false },
      labels: streamLabels('en'),
      flushMs: 50,
    });
    const shownNow = async () => cardText((await lark.botMessages(run.sent.chat_id)).find((m) => m.card_entity?.streaming_mode)?.content ?? {});
    const dataUrl = `data:image/png;base64,${PNG.toString('base64')}`;
    stream.push('Here is a chart:');
    await waitFor(async () => (await shownNow()) === 'Here is a chart:', 5_000, 'the first frame');
    // Half of the image written: the frame shows its mark, not the characters of its data URL.
    stream.push(`Here is a chart:\n\n![chart](${dataUrl.slice(0, 40)}`);
    await waitFor(async () => (await shownNow()) !== 'Here is a chart:', 5_000, 'the next frame');
    expect(await shownNow()).toBe('Here is a chart:\n\n\u{1F5BC}\uFE0F chart');
    stream.push(`Here is a chart:\n\n![chart](${dataUrl}) as promised`);
    await waitFor(async () => (await shownNow()).endsWith('as promised'), 5_000, 'the last frame');
    expect(await shownNow()).toBe('Here is a chart:\n\n\u{1F5BC}\uFE0F chart as promised');
    const ref = await stream.end();
    expect(ref).toEqual({ taskId: run.taskId, attempt: 1 });
    const live = (await lark.botMessages(run.sent.chat_id)).find((m) => m.card_entity?.streaming_mode);

    const { row, messages } = await deliverAnswer(run, [{ kind: 'image', name: 'chart.png', bytes: PNG }], ([id]) => `Here is a chart:\n\n![chart](attachment:${id}) as promised`, { stream: ref });
    expect(row.status).toBe('sent');
    expect(messages.map((m) => m.message_id)).toEqual([live!.message_id]);
    const [card] = await messagesOf(run.sent.chat_id, row);
    expect(card.card_entity?.streaming_mode).toBe(false);
    const targets = imageTargets(cardText(card.content));
    expect(targets).toHaveLength(1);
    expect((await uploadsOf(bot)).map((u) => u.key)).toEqual(targets);
    // Lark took every frame: none carried the data URL (an image it does not know fails the frame).
    const ops = (await sim.control<{ ops: CardOp[] }>('GET', `/cards/${card.card_entity!.card_id}`)).ops;
    expect(ops.filter((o) => o.kind === 'element_content').length).toBeGreaterThan(0);
    expect(ops.filter((o) => o.code !== 0)).toEqual([]);
  }, 60_000);

  test('an image Lark refuses for good becomes a link to the web app, and the answer still arrives', async () => {
    const bot = await newBot('Refused');
    const run = await answeredQuestion(bot, 'Ria');
    await sim.control('POST', '/faults', { kind: 'rest_error', app_id: bot.appId, path: '/im/v1/images', code: 234011, http_status: 400, msg: "Can't recognize the image format.", count: -1 });
    const { ids, row, messages } = await deliverAnswer(run, [{ kind: 'image', name: 'chart.png', bytes: PNG }], ([id]) => `Here is a chart:\n\n![chart](attachment:${id})`);
    expect(row.status).toBe('sent');
    expect(messages).toHaveLength(1);
    const text = cardText(messages[0].content);
    expect(imageTargets(text)).toEqual([]);
    expect(text).toContain(`[chart](${downloadUrl(ids[0])})`);
    expect(await uploadsOf(bot)).toEqual([]);
  }, 60_000);

  test('a delivery retried after its image was uploaded does not upload it again', async () => {
    const bot = await newBot('Retrier');
    const run = await answeredQuestion(bot, 'Rio');
    // The answer's send fails once after the upload (a 5xx, retried); the row is tried again.
    await sim.control('POST', '/faults', { kind: 'rest_error', app_id: bot.appId, path: '/\\/im\\/v1\\/messages$/', method: 'POST', code: 2200, http_status: 500, msg: 'internal error', count: 1 });
    const { row, messages } = await deliverAnswer(run, [{ kind: 'image', name: 'chart.png', bytes: PNG }], ([id]) => `![chart](attachment:${id})`);
    expect(row.status).toBe('sent');
    expect(row.attempts).toBe(2);
    expect(messages).toHaveLength(1);
    const uploads = await uploadsOf(bot);
    expect(uploads).toHaveLength(1);
    expect(imageTargets(cardText(messages[0].content))).toEqual([uploads[0].key]);
  }, 60_000);

  test('outside URLs, data URLs and unknown attachments never reach a card', async () => {
    const run = await answeredQuestion(await newBot('Linker'), 'Lin');
    const { row, messages } = await deliverAnswer(
      run,
      [],
      () => '**Pictures**\n\n![logo](https://example.com/logo.png) ![dot](data:image/png;base64,iVBORw0KGgo=) ![lost](attachment:0b8c2f5e-9a3b-4c1d-8e7f-1a2b3c4d5e6f)',
    );
    expect(row.status).toBe('sent');
    const text = cardText(messages[0].content);
    expect(imageTargets(text)).toEqual([]);
    expect(text).toContain('[logo](https://example.com/logo.png)');
    expect(text).not.toContain('data:');
    expect(text).not.toContain('attachment:');
  }, 60_000);
});

describe('files in answers', () => {
  test('a 2 MB file follows the text as a file message with the attachment’s bytes; an image not in the text as an image message', async () => {
    const bot = await newBot('Filer');
    const run = await answeredQuestion(bot, 'Fay');
    const { ids, row, messages } = await deliverAnswer(
      run,
      [
        { kind: 'file', name: 'data.bin', bytes: randomBytes(2 * MB) },
        { kind: 'image', name: 'extra.png', bytes: PNG },
      ],
      () => 'Here are your files.',
    );
    expect(row.status).toBe('sent');
    expect(messages.map((m) => m.msg_type)).toEqual(['text', 'file', 'image']);
    expect(textOf(messages[0])).toBe('Here are your files.');
    expect(messages[1].content.file_name).toBe('data.bin');
    const fileKey = String(messages[1].content.file_key);
    const imageKey = String(messages[2].content.image_key);
    const uploads = await uploadsOf(bot);
    expect(uploads.find((u) => u.key === fileKey)).toMatchObject({ kind: 'file', file_type: 'stream', size: 2 * MB });
    expect((await mediaBytes(fileKey)).equals(await storedBytes(ids[0]))).toBe(true);
    expect((await mediaBytes(imageKey)).equals(PNG)).toBe(true);
    // Each message is recorded like a part of the text, so a recall takes it back too.
    expect(row.lark_message_ids).toHaveLength(3);
  }, 60_000);

  test('a 40 MB file is not uploaded: a message with its name, size and download link follows the text', async () => {
    const bot = await newBot('Big');
    const run = await answeredQuestion(bot, 'Bea');
    const { ids, row, messages } = await deliverAnswer(run, [{ kind: 'file', name: 'big-export.bin', bytes: Buffer.alloc(40 * MB, 1) }], () => 'The export is ready.');
    expect(row.status).toBe('sent');
    expect(messages.map((m) => m.msg_type)).toEqual(['text', 'text']);
    const notice = textOf(messages[1]);
    expect(notice).toContain('big-export.bin (40 MB) is too large to send here');
    expect(notice).toContain(downloadUrl(ids[0]));
    expect(await uploadsOf(bot)).toEqual([]);
  }, 90_000);

  test('a file Lark refuses for good becomes a message with its download link', async () => {
    const bot = await newBot('Refuser');
    const run = await answeredQuestion(bot, 'Rex');
    await sim.control('POST', '/faults', { kind: 'rest_error', app_id: bot.appId, path: '/im/v1/files', code: 234001, http_status: 400, msg: 'Invalid request param.', count: -1 });
    const { ids, row, messages } = await deliverAnswer(run, [{ kind: 'file', name: 'notes.txt', bytes: Buffer.from('some notes\n') }], () => 'Notes attached.');
    expect(row.status).toBe('sent');
    expect(messages.map((m) => m.msg_type)).toEqual(['text', 'text']);
    expect(textOf(messages[1])).toContain('notes.txt (11 B) could not be sent here');
    expect(textOf(messages[1])).toContain(downloadUrl(ids[0]));
  }, 60_000);

  test('a recalled question takes the file messages back with the answer', async () => {
    const bot = await newBot('Taker');
    const run = await answeredQuestion(bot, 'Tia');
    const { messages } = await deliverAnswer(run, [{ kind: 'file', name: 'data.bin', bytes: randomBytes(64 * 1024) }], () => 'Your file.');
    expect(messages.map((m) => m.msg_type)).toEqual(['text', 'file']);
    await sim.control('POST', `/messages/${run.sent.message_id}/recall`, { user_id: run.user.id });
    await waitFor(async () => (await lark.botMessages(run.sent.chat_id)).every((m) => m.recalled_at), 15_000, 'the answer and its file taken back');
  }, 60_000);
});

describe('end to end with the echo agent', () => {
  /** A linked Lark user asks the bot; returns once the answer's outbox row is settled. */
  async function ask(bot: LarkBot, name: string, question: string) {
    const user = await lark.newUser(name);
    await lark.bind(bot, user.id, owner);
    const sent = await lark.dm(bot, user.id, question);
    const task = await completedTaskOf(sent.message_id);
    const row = await settledRow(sql`task_id = ${task.id}::uuid AND kind = 'agent_reply'`);
    const files = await t.db.execute<{ id: string; kind: string; file_name: string; size_bytes: string }>(sql`
      SELECT id, kind, file_name, size_bytes FROM attachment WHERE task_id = ${task.id}::uuid AND source = 'agent' AND state = 'stored' ORDER BY position`);
    return { row, messages: await messagesOf(sent.chat_id, row), files: files.rows.map((f) => ({ ...f, size_bytes: Number(f.size_bytes) })) };
  }

  test('“please draw a chart” arrives as a card showing the chart by an image_key the bot uploaded', async () => {
    const bot = await newBot('Drawer');
    const { row, messages, files } = await ask(bot, 'Dee', 'please draw a chart');
    expect(row.status).toBe('sent');
    expect(files.map((f) => f.kind)).toEqual(['image']);
    expect(messages).toHaveLength(1);
    const targets = imageTargets(cardText(messages[0].content));
    expect(targets).toHaveLength(1);
    expect(targets[0]).toMatch(IMAGE_KEY);
    expect((await uploadsOf(bot)).map((u) => u.key)).toEqual(targets);
    expect((await mediaBytes(targets[0])).equals(await storedBytes(files[0].id))).toBe(true);
  }, 60_000);

  test('“please draw a chart” while streaming: the closed card shows the uploaded chart', async () => {
    const bot = await newBot('Streamer', { wordDelayMs: 60 });
    const { row, messages } = await ask(bot, 'Sue', 'please draw a chart of the seven bridges and the river below them');
    expect(row.status).toBe('sent');
    expect(messages).toHaveLength(1);
    expect(messages[0].card_entity?.streaming_mode).toBe(false);
    const targets = imageTargets(cardText(messages[0].content));
    expect(targets).toHaveLength(1);
    expect((await uploadsOf(bot)).map((u) => u.key)).toEqual(targets);
    const ops = (await sim.control<{ ops: CardOp[] }>('GET', `/cards/${messages[0].card_entity!.card_id}`)).ops;
    expect(ops.filter((o) => o.code !== 0)).toEqual([]);
  }, 60_000);

  test('“send me a 2 MB file” arrives as the text answer and a file message with the same bytes', async () => {
    const bot = await newBot('Sender');
    const { row, messages, files } = await ask(bot, 'Sol', 'send me a 2 MB file');
    expect(row.status).toBe('sent');
    expect(files).toMatchObject([{ kind: 'file', file_name: 'echo-2mb.bin', size_bytes: 2 * MB }]);
    expect(messages.map((m) => m.msg_type)).toEqual([expect.stringMatching(/^(text|interactive)$/), 'file']);
    expect(textOf(messages[0])).toContain('send me a 2 MB file');
    const key = String(messages[1].content.file_key);
    expect((await mediaBytes(key)).equals(await storedBytes(files[0].id))).toBe(true);
  }, 60_000);

  test('“send me a 40 MB file” arrives as the text answer and a message with the download link', async () => {
    const bot = await newBot('Sender40');
    const { row, messages, files } = await ask(bot, 'Sid', 'send me a 40 MB file');
    expect(row.status).toBe('sent');
    expect(files).toMatchObject([{ kind: 'file', file_name: 'echo-40mb.bin', size_bytes: 40 * MB }]);
    expect(messages).toHaveLength(2);
    expect(textOf(messages[0])).toContain('send me a 40 MB file');
    expect(textOf(messages[1])).toContain('echo-40mb.bin (40 MB) is too large to send here');
    expect(textOf(messages[1])).toContain(downloadUrl(files[0].id));
    expect(await uploadsOf(bot)).toEqual([]);
  }, 90_000);
});
