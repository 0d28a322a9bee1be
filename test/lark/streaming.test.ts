import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as workspaces from '@/app/api/workspaces/route';
import { agent, agentTask, chatMessage, larkUserBinding } from '@/server/db/schema';
import { STREAM_FLUSH_MS } from '@/server/lark/outbound/stream-card';
import { call, signUp, type TestUser } from '../api';
import type { TestDatabase } from '../db';
import { waitFor, type Sim } from './sim';
import { startLarkHarness, type LarkBot, type LarkHarness, type SimMessage } from './worker-harness';

let lark: LarkHarness;
let t: TestDatabase;
let sim: Sim;
let owner: TestUser;
let ws: { id: string; slug: string };
let tenantKey: string;
let model: { url: string; close: () => Promise<void>; mode: 'long' | 'fail' };

type CardOp = { at: number; kind: string; sequence: number | null; code: number; element_id?: string; replay?: boolean };

/** An OpenAI-compatible model that streams a long answer in chunks, or fails. */
async function startModel(answer: string) {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      if (model.mode === 'fail') {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'model down', code: 'server_error' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = 4_000;
      for (let at = 0; at < answer.length; at += chunk) {
        const delta = { id: 'c1', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { content: answer.slice(at, at + chunk) }, finish_reason: null }] };
        res.write(`data: ${JSON.stringify(delta)}\n\n`);
        await new Promise((r) => setTimeout(r, 120));
      }
      res.write('data: [DONE]\n\n');
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return { url, close: () => new Promise<void>((r) => server.close(() => r())), mode: 'long' as 'long' | 'fail' };
}

// Prose of about 40 KB without markdown syntax, so the cards show it exactly as written.
const LONG_ANSWER = Array.from({ length: 400 }, (_, i) => `Paragraph ${i} says the quick brown fox jumps over the lazy dog near the river bank today.`).join('\n\n');

function newBot(name: string, runtime: { kind: 'echo'; wordDelayMs?: number; delayMs?: number } | { kind: 'openai' }): Promise<LarkBot> {
  const runtimeConfig =
    runtime.kind === 'echo'
      ? { ...(runtime.wordDelayMs && { wordDelayMs: runtime.wordDelayMs }), ...(runtime.delayMs && { delayMs: runtime.delayMs }) }
      : { baseUrl: model.url, model: 'm', stream: true, apiKey: 'sk-test' };
  return lark.installBot({ workspaceId: ws.id, installer: owner, name, runtime: { runtimeKind: runtime.kind, runtimeConfig }, region: 'lark' });
}

async function linkedUser(bot: LarkBot, name: string, member: TestUser = owner) {
  const u = await lark.newUser(name);
  await lark.bind(bot, u.id, member);
  return u;
}
const cardOps = async (cardId: string) => (await sim.control<{ ops: CardOp[] }>('GET', `/cards/${cardId}`)).ops;

/** The text a card shows: its streamed markdown element. */
function cardText(content: Record<string, unknown>): string {
  const elements = ((content.body as { elements?: Array<{ element_id?: string; tag: string; content?: string }> } | undefined)?.elements ?? []).filter((e) => e.tag === 'markdown');
  return (elements.find((e) => e.element_id === 'answer') ?? elements[0])?.content ?? '';
}
const cardNote = (content: Record<string, unknown>) =>
  ((content.body as { elements?: Array<{ element_id?: string; content?: string }> }).elements ?? []).find((e) => e.element_id === 'note')?.content ?? '';

async function streamingCardIn(chatId: string): Promise<SimMessage> {
  return waitFor(async () => (await lark.botMessages(chatId)).find((m) => m.card_entity?.streaming_mode && cardText(m.content).length > 0), 15_000, 'a streaming card');
}

async function taskOf(larkMessageId: string) {
  const res = await t.db.execute<{ id: string; status: string; cancel_reason: string | null; session_id: string }>(sql`
    SELECT t.id, t.status, t.cancel_reason, t.session_id FROM agent_task t JOIN lark_inbound_message l ON l.chat_message_id = t.trigger_message_id
    WHERE l.lark_message_id = ${larkMessageId} ORDER BY t.seq DESC LIMIT 1`);
  return res.rows[0];
}

const answersIn = (sessionId: string) =>
  t.db.select().from(chatMessage).where(and(eq(chatMessage.sessionId, sessionId), eq(chatMessage.role, 'assistant')));

/** The question's task once it completed and its outbox rows were delivered. */
async function answered(larkMessageId: string, timeoutMs: number) {
  const task = await waitFor(async () => {
    const tk = await taskOf(larkMessageId);
    return tk?.status === 'completed' && tk;
  }, timeoutMs, 'completion');
  await outboxSettled(task.id);
  return task;
}

/** The question as Lark shows it now (its reactions). */
const questionNow = async (sent: { chat_id: string; message_id: string }) => (await lark.transcript(sent.chat_id)).find((m) => m.message_id === sent.message_id);

async function outboxSettled(taskId: string) {
  await waitFor(async () => {
    const res = await t.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM lark_outbox WHERE task_id = ${taskId}::uuid AND status = 'pending'`);
    return res.rows[0].n === 0;
  }, 15_000, 'the run’s outbox rows delivered');
}

beforeAll(async () => {
  // A Lark (international) tenant: the bot speaks English on the automatic setting.
  lark = await startLarkHarness({ env: { AGENT_ENDPOINT_ALLOWLIST: '127.0.0.1' }, tenant: { brand: 'lark', name: 'Stream Co' } });
  ({ t, sim, tenantKey } = lark);
  model = await startModel(LONG_ANSWER);
  await lark.startWorker({ nodeId: 'streaming-test' });
  owner = await signUp('Owner');
  ws = (await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Stream Co', slug: 'stream-co', issue_prefix: 'STR' } })).body.workspace;
}, 60_000);

afterAll(async () => {
  await lark?.close();
  await model?.close();
});

describe('streaming answers', () => {
  test('the answer streams into one card with growing sequences, closes with the stored text, and the typing reaction comes and goes', async () => {
    const bot = await newBot('Streamer', { kind: 'echo', wordDelayMs: 80 });
    const li = await linkedUser(bot, 'Li');
    const question = 'tell me about the seven bridges of the old town and the river that runs below them all year';
    const sent = await lark.dm(bot, li.id, question);
    // While the agent works, the question wears the bot's Typing reaction.
    await waitFor(async () => (await questionNow(sent))?.reactions.some((r) => r.emoji_type === 'Typing' && r.operator.type === 'app'), 10_000, 'typing reaction');
    const live = await streamingCardIn(sent.chat_id);
    expect(live.card_entity?.summary).toBe('Generating…');
    const task = await taskOf(sent.message_id);
    await waitFor(async () => (await taskOf(sent.message_id)).status === 'completed', 20_000, 'completion');
    await outboxSettled(task.id);

    const bots = await lark.botMessages(sent.chat_id);
    expect(bots).toHaveLength(1);
    const [card] = bots;
    expect(card.message_id).toBe(live.message_id);
    expect(card.card_entity?.streaming_mode).toBe(false);
    const [stored] = await answersIn(task.session_id);
    expect(cardText(card.content)).toBe(stored.content);
    expect(stored.content).toBe(`You said: "${question}"`);
    // No Stop button on the closed card.
    expect(JSON.stringify(card.content)).not.toContain('"stop"');

    const ops = await cardOps(card.card_entity!.card_id);
    const streamed = ops.filter((o) => o.kind === 'element_content' && o.code === 0);
    expect(streamed.length).toBeGreaterThanOrEqual(3);
    const sequences = ops.filter((o) => o.sequence !== null && o.code === 0).map((o) => o.sequence!);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(new Set(sequences).size).toBe(sequences.length);
    expect(ops.at(-1)).toMatchObject({ kind: 'update', code: 0 });
    // At most one frame per STREAM_FLUSH_MS, plus the close: never more than 5 operations in any second.
    const perSecond = Math.max(...ops.map((o) => ops.filter((p) => p.at >= o.at && p.at < o.at + 1000).length));
    expect(perSecond).toBeLessThanOrEqual(Math.floor(1000 / STREAM_FLUSH_MS) + 1);
    expect(ops.every((o) => o.code === 0)).toBe(true);

    // The reaction is off once the answer is complete.
    await waitFor(async () => (await questionNow(sent))?.reactions.length === 0, 10_000, 'typing reaction removed');
  });

  test('an answer that comes at once is sent without the typing reaction ever showing', async () => {
    const bot = await newBot('Quick', { kind: 'echo' });
    const ada = await linkedUser(bot, 'Ada');
    const sent = await lark.dm(bot, ada.id, 'quick one');
    await answered(sent.message_id, 15_000);
    expect(await lark.botMessages(sent.chat_id)).toHaveLength(1);
    const question = await questionNow(sent);
    expect(question?.reactions_added).toBe(0);
  });

  test('an answer that takes a moment gets the typing reaction, and it is taken off with the answer', async () => {
    const bot = await newBot('Thinker', { kind: 'echo', delayMs: 1500 });
    const bo = await linkedUser(bot, 'Bo');
    const sent = await lark.dm(bot, bo.id, 'think first');
    await waitFor(async () => (await questionNow(sent))?.reactions.some((r) => r.emoji_type === 'Typing'), 10_000, 'typing reaction');
    await answered(sent.message_id, 15_000);
    await waitFor(async () => (await questionNow(sent))?.reactions.length === 0, 10_000, 'typing reaction removed');
    expect((await questionNow(sent))?.reactions_added).toBe(1);
  });

  test('a 40 KB answer arrives complete across cards, each within the card limit', async () => {
    model.mode = 'long';
    const bot = await newBot('Writer', { kind: 'openai' });
    const mei = await linkedUser(bot, 'Mei');
    const sent = await lark.dm(bot, mei.id, 'write me something long');
    const task = await answered(sent.message_id, 30_000);
    const bots = await lark.botMessages(sent.chat_id);
    expect(bots.length).toBeGreaterThanOrEqual(2);
    expect(bots.every((m) => m.msg_type === 'interactive' && m.card_entity?.streaming_mode !== true)).toBe(true);
    expect(bots.map((m) => cardText(m.content)).join('')).toBe(LONG_ANSWER);
    for (const m of bots) expect(Buffer.byteLength(JSON.stringify(m.content))).toBeLessThan(30_000);
    const [stored] = await answersIn(task.session_id);
    expect(stored.content).toBe(LONG_ANSWER);
  });

  test('when CardKit fails mid-stream the answer still arrives exactly once, as a message', async () => {
    const bot = await newBot('Fragile', { kind: 'echo', wordDelayMs: 120 });
    const ada = await linkedUser(bot, 'Ada');
    const question = 'count slowly from one to twenty please: one two three four five six seven eight nine ten';
    const sent = await lark.dm(bot, ada.id, question);
    const live = await streamingCardIn(sent.chat_id);
    const fault = await sim.control<{ id: string }>('POST', '/faults', { kind: 'rest_error', app_id: bot.appId, path: '/cardkit/v1/cards/', code: 230099, http_status: 400, msg: 'card failed', count: -1 });
    try {
      await answered(sent.message_id, 20_000);
      const shown = (await lark.botMessages(sent.chat_id)).filter((m) => !m.recalled_at);
      expect(shown).toHaveLength(1);
      expect(shown[0].message_id).not.toBe(live.message_id);
      const text = shown[0].msg_type === 'text' ? (shown[0].content as { text: string }).text : cardText(shown[0].content);
      expect(text).toBe(`You said: "${question}"`);
      // The half-written card is gone.
      expect((await lark.transcript(sent.chat_id)).find((m) => m.message_id === live.message_id)?.recalled_at).toBeTruthy();
    } finally {
      await sim.control('DELETE', `/faults/${fault.id}`);
    }
  });
});

describe('a card that could not be sent', () => {
  test('its part goes out as a message: the answer is never left inside a card nobody sees', async () => {
    const bot = await newBot('Unsent', { kind: 'echo', wordDelayMs: 80 });
    const eve = await linkedUser(bot, 'Eve');
    // The reply that would show the streaming card is refused once; the answer itself goes to the chat.
    const fault = await sim.control<{ id: string }>('POST', '/faults', { kind: 'rest_error', app_id: bot.appId, path: '/reply', code: 230001, http_status: 400, msg: 'bad request', count: 1 });
    try {
      const question = 'some words to make the answer stream for a little while please';
      const sent = await lark.dm(bot, eve.id, question);
      const task = await answered(sent.message_id, 20_000);
      const shown = await lark.botMessages(sent.chat_id);
      expect(shown).toHaveLength(1);
      const text = shown[0].msg_type === 'text' ? (shown[0].content as { text: string }).text : cardText(shown[0].content);
      expect(text).toBe(`You said: "${question}"`);
      const cards = await t.db.execute<{ state: string }>(sql`SELECT state FROM lark_stream_card WHERE task_id = ${task.id}::uuid`);
      expect(cards.rows.map((r) => r.state)).toEqual(['interrupted']);
    } finally {
      await sim.control('DELETE', `/faults/${fault.id}`).catch(() => undefined);
    }
  });
});

describe('buttons', () => {
  test('Stop stops the run within a second of the press; the card keeps what was written and says who stopped it', async () => {
    const bot = await newBot('Talker', { kind: 'echo', wordDelayMs: 250 });
    const li = await linkedUser(bot, 'Lin');
    const question = 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen';
    const sent = await lark.dm(bot, li.id, question);
    const live = await streamingCardIn(sent.chat_id);
    const task = await taskOf(sent.message_id);
    const pressed = Date.now();
    const click = await sim.control<{ status: string; toast: { type: string; content: string } | null }>('POST', `/messages/${live.message_id}/card-action`, {
      user_id: li.id,
      value: { a: 'stop', task: task.id },
    });
    expect(click.status).toBe('answered');
    expect(click.toast).toMatchObject({ content: 'Stopping…' });
    await waitFor(async () => (await taskOf(sent.message_id)).status === 'cancelled', 1_000, 'the run stopped');
    expect(Date.now() - pressed).toBeLessThan(1_000);
    await outboxSettled(task.id);
    const [card] = await lark.botMessages(sent.chat_id);
    expect(card.card_entity?.streaming_mode).toBe(false);
    expect(cardNote(card.content)).toContain('Stopped by');
    const [stored] = await answersIn(task.session_id);
    expect(stored.endReason).toBe('stopped');
    expect(cardText(card.content)).toBe(stored.content);
    expect(`You said: "${question}"`.startsWith(stored.content)).toBe(true);
    expect(stored.content.length).toBeLessThan(`You said: "${question}"`.length);
    // The closed card offers no Stop button any more.
    expect(JSON.stringify(card.content)).not.toContain('"a":"stop"');
  });

  test('only the asker (or an admin) may stop a run; anyone else gets a toast and the run goes on', async () => {
    const bot = await newBot('Grouper', { kind: 'echo', wordDelayMs: 150 });
    const asker = await linkedUser(bot, 'Asker');
    const member = await signUp('Plain Member');
    const { joinByInvitation } = await import('../api');
    await joinByInvitation({ inviter: owner, workspaceId: ws.id, invitee: member });
    const other = await linkedUser(bot, 'Other', member);
    const group = await sim.control<{ chat_id: string }>('POST', '/chats', { tenant_key: tenantKey, name: 'Team', user_ids: [asker.id, other.id], app_ids: [bot.appId] });
    const sent = await sim.control<{ message_id: string }>('POST', '/messages', {
      user_id: asker.id,
      chat_id: group.chat_id,
      text: '@_user_1 please repeat these words slowly one two three four five six seven eight',
      mentions: [{ app_id: bot.appId }],
    });
    const live = await streamingCardIn(group.chat_id);
    const task = await taskOf(sent.message_id);
    const click = await sim.control<{ status: string; toast: { type: string; content: string } | null }>('POST', `/messages/${live.message_id}/card-action`, {
      user_id: other.id,
      value: { a: 'stop', task: task.id },
    });
    expect(click.toast).toMatchObject({ type: 'warning', content: 'Only the person who asked, or a workspace admin, can do this.' });
    await waitFor(async () => (await taskOf(sent.message_id)).status === 'completed', 20_000, 'the run finished anyway');
  });

  test('Retry on an error card runs the question again', async () => {
    model.mode = 'fail';
    const bot = await newBot('Flaky', { kind: 'openai' });
    const kim = await linkedUser(bot, 'Kim');
    const sent = await lark.dm(bot, kim.id, 'are you there');
    const failed = await waitFor(async () => {
      const tk = await taskOf(sent.message_id);
      return tk?.status === 'failed' && tk;
    }, 20_000, 'the run failed');
    await outboxSettled(failed.id);
    const [errorCard] = await lark.botMessages(sent.chat_id);
    expect(JSON.stringify(errorCard.content)).toContain('"retry"');
    // The agent is fixed, then the asker presses Retry.
    await t.db.update(agent).set({ runtimeKind: 'echo', runtimeConfig: {} }).where(eq(agent.id, bot.agentId));
    const click = await sim.control<{ toast: { content: string } | null }>('POST', `/messages/${errorCard.message_id}/card-action`, { user_id: kim.id, value: { a: 'retry', task: failed.id } });
    expect(click.toast).toMatchObject({ content: 'Running it again…' });
    await waitFor(async () => (await lark.botMessages(sent.chat_id)).some((m) => m.msg_type === 'text' && (m.content as { text: string }).text === 'You said: "are you there"'), 15_000, 'the retried answer');
    // A second press of the same button is no longer valid: no third run.
    const again = await sim.control<{ toast: { content: string } | null }>('POST', `/messages/${errorCard.message_id}/card-action`, { user_id: kim.id, value: { a: 'retry', task: failed.id } });
    expect(again.toast?.content ?? '').not.toBe('Running it again…');
    const runs = await t.db.select().from(agentTask).where(eq(agentTask.sessionId, failed.session_id));
    expect(runs).toHaveLength(2);
  });

  test('/unbind asks first; pressing Unlink removes the link, and the next message gets the binding prompt', async () => {
    const bot = await newBot('Keeper', { kind: 'echo' });
    const sam = await linkedUser(bot, 'Sam');
    const sent = await lark.dm(bot, sam.id, '/unbind');
    const confirm = await waitFor(async () => (await lark.botMessages(sent.chat_id)).find((m) => JSON.stringify(m.content).includes('"unbind"')), 10_000, 'confirm card');
    const bindingsBefore = await t.db.select().from(larkUserBinding).where(eq(larkUserBinding.installationId, bot.installationId));
    expect(bindingsBefore).toHaveLength(1);
    const click = await sim.control<{ toast: { type: string; content: string } | null }>('POST', `/messages/${confirm.message_id}/card-action`, {
      user_id: sam.id,
      value: { a: 'unbind', binding: bindingsBefore[0].id },
    });
    expect(click.toast).toMatchObject({ type: 'success', content: 'Your Lark account is no longer linked to Stream Co.' });
    expect(await t.db.select().from(larkUserBinding).where(eq(larkUserBinding.installationId, bot.installationId))).toHaveLength(0);
    await lark.dm(bot, sam.id, 'hello again');
    await waitFor(async () => (await lark.botMessages(sent.chat_id)).some((m) => JSON.stringify(m.content).includes('/lark/bind?token=')), 10_000, 'binding prompt');
  });
});

describe('recall', () => {
  test('during the run: the run stops, the streaming card is taken back, and the question shows as recalled', async () => {
    const bot = await newBot('Recaller', { kind: 'echo', wordDelayMs: 200 });
    const jo = await linkedUser(bot, 'Jo');
    const sent = await lark.dm(bot, jo.id, 'a b c d e f g h i j k l m n o p q r s t');
    const live = await streamingCardIn(sent.chat_id);
    const task = await taskOf(sent.message_id);
    await sim.control('POST', `/messages/${sent.message_id}/recall`, { user_id: jo.id });
    await waitFor(async () => (await taskOf(sent.message_id)).status === 'cancelled', 5_000, 'the run cancelled');
    expect((await taskOf(sent.message_id)).cancel_reason).toBe('recalled');
    await outboxSettled(task.id);
    expect((await lark.transcript(sent.chat_id)).find((m) => m.message_id === live.message_id)?.recalled_at).toBeTruthy();
    expect((await lark.botMessages(sent.chat_id)).filter((m) => !m.recalled_at)).toHaveLength(0);
    const question = await t.db.execute<{ content: string; recalled_at: Date | null }>(sql`
      SELECT m.content, m.recalled_at FROM chat_message m JOIN lark_inbound_message l ON l.chat_message_id = m.id WHERE l.lark_message_id = ${sent.message_id}`);
    expect(question.rows[0]).toMatchObject({ content: '' });
    expect(question.rows[0].recalled_at).not.toBeNull();
    expect(await answersIn(task.session_id)).toHaveLength(0);
  });

  test('after the answer: the answer is taken back', async () => {
    const bot = await newBot('Quick', { kind: 'echo' });
    const bo = await linkedUser(bot, 'Bo');
    const sent = await lark.dm(bot, bo.id, 'quick one');
    const answer = await waitFor(async () => (await lark.botMessages(sent.chat_id))[0], 10_000, 'the answer');
    await sim.control('POST', `/messages/${sent.message_id}/recall`, { user_id: bo.id });
    await waitFor(async () => (await lark.transcript(sent.chat_id)).find((m) => m.message_id === answer.message_id)?.recalled_at, 10_000, 'the answer taken back');
  });

  test('before the run starts: no answer is ever sent', async () => {
    // Long enough that the second question is still waiting when it is recalled, however busy the machine.
    const bot = await newBot('Slow', { kind: 'echo', delayMs: 6000 });
    const cy = await linkedUser(bot, 'Cy');
    const first = await lark.dm(bot, cy.id, 'first question');
    // The second waits behind the first in the same chat; recalled before its run starts.
    const second = await lark.dm(bot, cy.id, 'second question');
    await waitFor(async () => (await taskOf(second.message_id))?.status === 'queued', 15_000, 'queued');
    await sim.control('POST', `/messages/${second.message_id}/recall`, { user_id: cy.id });
    await waitFor(async () => (await taskOf(second.message_id)).status === 'cancelled', 5_000, 'cancelled');
    await waitFor(async () => (await taskOf(first.message_id)).status === 'completed', 20_000, 'first answered');
    await new Promise((r) => setTimeout(r, 2_500));
    const texts = (await lark.botMessages(first.chat_id)).filter((m) => !m.recalled_at).map((m) => JSON.stringify(m.content));
    expect(texts.some((s) => s.includes('first question'))).toBe(true);
    expect(texts.some((s) => s.includes('second question'))).toBe(false);
  }, 45_000);
});
