import { randomBytes } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as messagesRoute from '@/app/api/workspaces/[id]/chat/sessions/[sessionId]/messages/route';
import * as workspaces from '@/app/api/workspaces/route';
import { issue, larkInstallation, larkOutbox } from '@/server/db/schema';
import { dispatchInboundEvent } from '@/server/lark/inbound/dispatcher';
import type { RunningWorker } from '@/worker/worker';
import { call, joinByInvitation, signUp, type TestUser } from '../api';
import type { TestDatabase } from '../db';
import { openEventStream, until } from '../event-stream';
import { openIdOf, waitFor, type Sim } from './sim';
import { startLarkHarness, textMessageEvent, type LarkBot, type LarkHarness } from './worker-harness';

// The web chat and the Lark chat of one session tell the same story: what the bot says in Lark
// (its notices) shows in the web chat as the bot's messages, and a question typed in the web chat
// is posted in Lark, in the asker's name, before its answer. The bots here are on Feishu with the
// workspace's language left on 'auto', so they speak Chinese.

let lark: LarkHarness;
let t: TestDatabase;
let sim: Sim;
let worker: RunningWorker;
let owner: TestUser;
let teammate: TestUser;
let ws: { id: string; slug: string };
let tenantKey: string;
const silent = pino({ level: 'silent' });

let echoBot: LarkBot;

const installBot = (name: string, runtimeKind: 'echo' | null = 'echo') => lark.installBot({ workspaceId: ws.id, installer: owner, name, runtime: { runtimeKind } });

const botTexts = async (chatId: string) => (await lark.botMessages(chatId)).map((m) => String(m.content.text ?? JSON.stringify(m.content)));

/** The session a Lark message was stored in. */
async function sessionOf(larkMessageId: string): Promise<string> {
  return waitFor(async () => {
    const res = await t.db.execute<{ session_id: string }>(sql`
      SELECT m.session_id FROM lark_inbound_message l JOIN chat_message m ON m.id = l.chat_message_id WHERE l.lark_message_id = ${larkMessageId}`);
    return res.rows[0]?.session_id;
  }, 15_000, `${larkMessageId} stored`);
}

type WebMessage = { id: string; role: 'user' | 'assistant'; content: string };
/** The session as its web chat shows it. */
async function webChat(viewer: TestUser, sessionId: string): Promise<WebMessage[]> {
  const res = await call(messagesRoute.GET, 'GET', { token: viewer.token, params: { id: ws.id, sessionId } });
  expect(res.status).toBe(200);
  return res.body.messages.map((m: WebMessage) => ({ id: m.id, role: m.role, content: m.content }));
}
const turns = (messages: WebMessage[]) => messages.map((m) => [m.role, m.content]);

const askOnWeb = (viewer: TestUser, sessionId: string, content: string) =>
  call(messagesRoute.POST, 'POST', { token: viewer.token, params: { id: ws.id, sessionId }, body: { content } });

const webQuestionRows = (installationId: string) =>
  t.db.select().from(larkOutbox).where(and(eq(larkOutbox.installationId, installationId), eq(larkOutbox.kind, 'web_question')));

beforeAll(async () => {
  lark = await startLarkHarness();
  ({ t, sim, tenantKey } = lark);
  worker = await lark.startWorker({ nodeId: 'web-and-lark-test' });
  owner = await signUp('Owner');
  teammate = await signUp('Mei');
  ws = (await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Acme', slug: 'acme-same-story', issue_prefix: 'STO' } })).body.workspace;
  await joinByInvitation({ inviter: owner, workspaceId: ws.id, invitee: teammate });
  echoBot = await installBot('Echo');
}, 60_000);

afterAll(() => lark?.close());

describe('the bot’s notices in the web chat', () => {
  test('/issue in a DM: its usage and its confirmation are the bot’s messages of the session, in the bot’s language, announced live', async () => {
    const u = await lark.newUser('Ivy');
    await lark.bind(echoBot, u.id, teammate);
    const usage = await lark.dm(echoBot, u.id, '/issue');
    const sessionId = await sessionOf(usage.message_id);
    const stream = await openEventStream(teammate, ws.id);
    try {
      await lark.dm(echoBot, u.id, '/issue Fix login\nIt fails on Safari');
      const created = await waitFor(async () => (await t.db.select().from(issue).where(and(eq(issue.workspaceId, ws.id), eq(issue.title, 'Fix login'))))[0], 15_000, 'the issue');
      const confirmation = `已创建 STO-${created.number} — Fix login\nhttp://localhost:3999/w/acme-same-story/issues/${created.id}`;
      const usageText = '用法：/issue <标题>\n在标题下方的行中填写描述。只发送 /issue 会把你的上一条消息创建为事项。';
      const messages = await webChat(teammate, sessionId);
      expect(turns(messages)).toEqual([
        ['user', '/issue'],
        ['assistant', usageText],
        ['user', '/issue Fix login\nIt fails on Safari'],
        ['assistant', confirmation],
      ]);
      // Lark shows the same words.
      await waitFor(async () => (await botTexts(usage.chat_id)).includes(confirmation), 15_000, 'the confirmation in Lark');
      expect(await botTexts(usage.chat_id)).toEqual([usageText, confirmation]);
      // The web chat hears of the notice as it is written.
      await until(() => stream.events.some((e) => e.type === 'chat.message.created' && e.message_id === messages[3].id && e.session_id === sessionId), 'the notice announced');
    } finally {
      stream.stop();
    }
  });

  test('an offline agent’s notice is the bot’s message of the session', async () => {
    const sleepy = await installBot('Sleepy', null);
    const u = await lark.newUser('Oz');
    await lark.bind(sleepy, u.id, teammate);
    const sent = await lark.dm(sleepy, u.id, 'are you there?');
    const sessionId = await sessionOf(sent.message_id);
    const offline = 'Sleepy 当前离线：它在 Larkspur 中没有配置运行环境。请联系它的所有者进行设置。';
    expect(turns(await webChat(teammate, sessionId))).toEqual([
      ['user', 'are you there?'],
      ['assistant', offline],
    ]);
    await waitFor(async () => (await botTexts(sent.chat_id)).includes(offline), 15_000, 'the offline notice in Lark');
  });

  test('/unbind’s card and /new’s confirmation show in the session they concern; /new’s ends the closed one', async () => {
    const u = await lark.newUser('Nia');
    await lark.bind(echoBot, u.id, teammate);
    const first = await lark.dm(echoBot, u.id, 'hello');
    const sessionId = await sessionOf(first.message_id);
    await waitFor(async () => (await webChat(teammate, sessionId)).length === 2, 15_000, 'the answer');
    await lark.dm(echoBot, u.id, '/unbind');
    await waitFor(async () => (await webChat(teammate, sessionId)).length === 3, 15_000, 'the unbind card in the web chat');
    await lark.dm(echoBot, u.id, '/new');
    await waitFor(async () => (await webChat(teammate, sessionId)).length === 4, 15_000, 'the reset notice in the web chat');
    expect(turns(await webChat(teammate, sessionId))).toEqual([
      ['user', 'hello'],
      ['assistant', 'You said: "hello"'],
      ['assistant', '取消关联你的飞书账号？\n你的飞书账号将不再关联到 Acme 工作区中的账号，重新关联之前机器人不会再回复你。'],
      ['assistant', '已开始新的对话。之前的消息仍保留在历史记录中。'],
    ]);
  });

  test('an ordinary Lark message (the one-statement path) writes no notice', async () => {
    const u = await lark.newUser('Rae');
    await lark.bind(echoBot, u.id, teammate);
    const first = await lark.dm(echoBot, u.id, 'first');
    const sessionId = await sessionOf(first.message_id);
    await waitFor(async () => (await webChat(teammate, sessionId)).length === 2, 15_000, 'the first answer');
    // The session exists now: the next message takes the one-statement path.
    const payload = textMessageEvent({
      appId: echoBot.appId,
      tenantKey,
      messageId: `om_fast_${randomBytes(4).toString('hex')}`,
      chatId: first.chat_id,
      senderOpenId: await openIdOf(sim, echoBot.appId, u.id),
      text: 'second',
    });
    const result = await dispatchInboundEvent({ db: worker.db, logger: silent, appUrl: 'http://localhost:3999' }, { appId: echoBot.appId, payload });
    expect(result).toMatchObject({ ack: 200, result: { outcome: 'ingested' } });
    await waitFor(async () => (await webChat(teammate, sessionId)).length >= 4, 15_000, 'the second answer');
    await new Promise((r) => setTimeout(r, 300));
    expect(turns(await webChat(teammate, sessionId))).toEqual([
      ['user', 'first'],
      ['assistant', 'You said: "first"'],
      ['user', 'second'],
      ['assistant', 'You said: "second"'],
    ]);
  });
});

describe('a question typed in the web chat of a Lark session', () => {
  test('in a DM: posted in the member’s name, before its answer', async () => {
    const u = await lark.newUser('Mei in Lark');
    await lark.bind(echoBot, u.id, teammate);
    const first = await lark.dm(echoBot, u.id, 'from Lark');
    const sessionId = await sessionOf(first.message_id);
    await waitFor(async () => (await botTexts(first.chat_id)).length === 1, 15_000, 'the first answer');

    const asked = await askOnWeb(teammate, sessionId, 'and from the web?');
    expect(asked.status).toBe(201);
    const answer = 'You said: "and from the web?"';
    await waitFor(async () => (await botTexts(first.chat_id)).includes(answer), 15_000, 'the answer in Lark');
    const texts = await botTexts(first.chat_id);
    expect(texts).toEqual(['You said: "from Lark"', 'Mei（来自 Larkspur）：and from the web?', answer]);
    const [row] = await webQuestionRows(echoBot.installationId).then((rows) => rows.filter((r) => r.receiveId === first.chat_id));
    expect(row).toMatchObject({ taskId: asked.body.task.id, receiveIdType: 'chat_id', status: 'sent', body: { kind: 'web_question', authorName: 'Mei', text: 'and from the web?' } });
    // The web chat itself has it once, as the member's.
    expect(turns(await webChat(teammate, sessionId))).toEqual([
      ['user', 'from Lark'],
      ['assistant', 'You said: "from Lark"'],
      ['user', 'and from the web?'],
      ['assistant', answer],
    ]);
  });

  test('in a topic: posted inside the topic, and answered there after it', async () => {
    const u = await lark.newUser('Topa');
    await lark.bind(echoBot, u.id, owner);
    const { chat_id: chatId } = await sim.control('POST', '/chats', { tenant_key: tenantKey, name: 'Topics', user_ids: [u.id], app_ids: [echoBot.appId] });
    const mention = `@{app:${echoBot.appId}}`;
    const root = await sim.control('POST', '/messages', { user_id: u.id, chat_id: chatId, text: `${mention} kick off` });
    await waitFor(async () => (await botTexts(chatId)).length === 1, 15_000, 'the answer to the root');
    const inTopic = await sim.control('POST', '/messages', { user_id: u.id, chat_id: chatId, text: `${mention} Release plan`, root_id: root.message_id });
    const topicSession = await sessionOf(inTopic.message_id);
    await waitFor(async () => (await botTexts(chatId)).length === 2, 15_000, 'the answer in the topic');
    const threadId = (await lark.transcript(chatId)).find((m) => m.message_id === inTopic.message_id)!.thread_id;
    expect(threadId).toMatch(/^omt_/);

    // A group's sessions belong to the installer.
    const asked = await askOnWeb(owner, topicSession, 'what about QA?');
    expect(asked.status).toBe(201);
    const answer = await waitFor(async () => (await lark.transcript(chatId)).find((m) => m.content.text === 'You said: "what about QA?"'), 15_000, 'the answer in the topic');
    const transcript = await lark.transcript(chatId);
    const question = transcript.find((m) => m.sender.type === 'app' && m.content.text === 'Owner（来自 Larkspur）：what about QA?');
    expect(question).toBeDefined();
    expect(question!.thread_id).toBe(threadId);
    expect(answer.thread_id).toBe(threadId);
    expect(transcript.indexOf(question!)).toBeLessThan(transcript.findIndex((m) => m.message_id === answer.message_id));
  });

  test('cannot mention everyone in the Lark chat', async () => {
    const u = await lark.newUser('Eve');
    await lark.bind(echoBot, u.id, teammate);
    const first = await lark.dm(echoBot, u.id, 'hi');
    const sessionId = await sessionOf(first.message_id);
    await waitFor(async () => (await botTexts(first.chat_id)).length === 1, 15_000, 'the first answer');
    expect((await askOnWeb(teammate, sessionId, 'wake up <at user_id="all"></at> [now](https://evil.example)')).status).toBe(201);
    const posted = await waitFor(async () => (await botTexts(first.chat_id)).find((x) => x.startsWith('Mei（来自 Larkspur）：')), 15_000, 'the question in Lark');
    expect(posted).not.toMatch(/<\/?at\b/i);
    expect(posted).not.toContain('](');
    expect(posted.replaceAll('\u200b', '')).toBe('Mei（来自 Larkspur）：wake up <at user_id="all"></at> [now](https://evil.example)');
  });

  test('while the bot is disconnected the question is stored and answered on the web, and nothing is posted', async () => {
    const gone = await installBot('Gone');
    const u = await lark.newUser('Lou');
    await lark.bind(gone, u.id, teammate);
    const first = await lark.dm(gone, u.id, 'before');
    const sessionId = await sessionOf(first.message_id);
    await waitFor(async () => (await botTexts(first.chat_id)).length === 1, 15_000, 'the first answer');
    await t.db.update(larkInstallation).set({ status: 'revoked' }).where(eq(larkInstallation.id, gone.installationId));

    const asked = await askOnWeb(teammate, sessionId, 'anyone?');
    expect(asked.status).toBe(201);
    expect(asked.body.task).not.toBeNull();
    await waitFor(async () => (await webChat(teammate, sessionId)).some((m) => m.content === 'You said: "anyone?"'), 15_000, 'the answer on the web');
    expect(await webQuestionRows(gone.installationId)).toEqual([]);
    expect(await botTexts(first.chat_id)).toHaveLength(1);
  });
});
