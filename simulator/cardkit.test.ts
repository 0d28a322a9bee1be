import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './server';
import { controlClient, request, seedTeamChat, seedWorld, tenantToken, type Control, type World } from './test-support';

type LarkBody = { code: number; msg: string; data?: Record<string, unknown> & { card_id?: string; message_id?: string } };
type CardOp = { at: number; kind: string; sequence: number | null; content_length: number; code: number; replay?: boolean };
type CardState = {
  card_id: string;
  app_id: string;
  message_id: string | null;
  streaming_mode: boolean;
  summary: string | null;
  sequence: number;
  card: { config?: Record<string, unknown>; body: { elements: Array<{ tag: string; element_id?: string; content?: string }> } };
  ops: CardOp[];
};
type Transcript = {
  messages: Array<{ message_id: string; content: CardState['card']; card_entity: { card_id: string; streaming_mode: boolean; summary: string | null } | null }>;
};

const streamingCard = (text = 'Thinking...', extra: Record<string, unknown> = {}) => ({
  schema: '2.0',
  config: { streaming_mode: true, summary: { content: '[Generating]' } },
  body: { elements: [{ tag: 'markdown', element_id: 'answer', content: text }, { tag: 'hr' }] },
  ...extra,
});
const table = (n: number) => `| a${n} | b |\n|---|---|\n| 1 | 2 |\n`;

describe('CardKit card entities', () => {
  let sim: Simulator;
  let control: Control;
  let world: World;
  let token: string;
  let chatId: string;

  const api = (method: string, path: string, body?: unknown, bearer = token) =>
    request<LarkBody>(`${sim.url}/open-apis${path}`, { method, body, headers: { authorization: `Bearer ${bearer}` } });
  const create = (card: unknown, bearer = token) =>
    api('POST', '/cardkit/v1/cards', { type: 'card_json', data: typeof card === 'string' ? card : JSON.stringify(card) }, bearer);
  const createId = async (card: unknown = streamingCard()) => {
    const res = await create(card);
    expect(res.body.code, JSON.stringify(res.body)).toBe(0);
    return res.body.data!.card_id!;
  };
  const content = (cardId: string, elementId: string, text: string, sequence: number, uuid?: string) =>
    api('PUT', `/cardkit/v1/cards/${cardId}/elements/${elementId}/content`, { content: text, sequence, ...(uuid ? { uuid } : {}) });
  const settings = (cardId: string, value: unknown, sequence: number) =>
    api('PATCH', `/cardkit/v1/cards/${cardId}/settings`, { settings: JSON.stringify(value), sequence });
  const replace = (cardId: string, card: unknown, sequence: number) =>
    api('PUT', `/cardkit/v1/cards/${cardId}`, { card: { type: 'card_json', data: JSON.stringify(card) }, sequence });
  const sendEntity = (cardId: string, bearer = token) =>
    api(
      'POST',
      '/im/v1/messages?receive_id_type=chat_id',
      { receive_id: chatId, msg_type: 'interactive', content: JSON.stringify({ type: 'card', data: { card_id: cardId } }) },
      bearer,
    );
  const cardState = (cardId: string) => control.get<CardState>(`/cards/${cardId}`);

  beforeAll(async () => {
    sim = await startSimulator({ rateLimitPerSecond: 1000, chatRateLimitPerSecond: 1000, cardOpsPerSecond: 1000 });
    control = controlClient(sim.url);
  });
  afterAll(() => sim.close());
  beforeEach(async () => {
    ({ world, token, chatId } = await seedTeamChat(sim.url, control));
  });

  it('creates an entity from card JSON 2.0 and answers Lark’s codes for bad cards', async () => {
    const cardId = await createId();
    expect(cardId).toMatch(/^\d{19}$/);
    const state = await cardState(cardId);
    expect(state).toEqual(expect.objectContaining({ app_id: world.app.app_id, message_id: null, streaming_mode: true, sequence: 0 }));
    expect(state.ops.map((o) => [o.kind, o.code])).toEqual([['create', 0]]);

    const cases: Array<[unknown, number, number]> = [
      [{ type: 'card_json' }, 400, 99992402],
      [{ type: 'template', data: '{"template_id":"x"}' }, 400, 10002],
      [{ type: 'card_json', data: 'not json' }, 400, 200220],
      [{ type: 'card_json', data: '{}' }, 400, 300307],
      [{ type: 'card_json', data: JSON.stringify({ elements: [{ tag: 'markdown', content: 'x' }] }) }, 400, 300303],
      [{ type: 'card_json', data: JSON.stringify({ ...streamingCard(), config: { update_multi: false } }) }, 400, 300302],
      [{ type: 'card_json', data: JSON.stringify(streamingCard('x'.repeat(31 * 1024))) }, 400, 200860],
      [{ type: 'card_json', data: JSON.stringify({ schema: '2.0', body: { elements: [{ tag: 'note', elements: [] }] } }) }, 400, 230099],
      [
        { type: 'card_json', data: JSON.stringify({ schema: '2.0', body: { elements: [{ tag: 'markdown', element_id: 'a', content: 'x' }, { tag: 'markdown', element_id: 'a', content: 'y' }] } }) },
        400,
        300301,
      ],
      [{ type: 'card_json', data: JSON.stringify({ schema: '2.0', body: { elements: [{ tag: 'markdown', element_id: '1st', content: 'x' }] } }) }, 400, 230099],
    ];
    for (const [body, status, code] of cases) {
      const res = await api('POST', '/cardkit/v1/cards', body);
      expect([res.status, res.body.code], JSON.stringify(body).slice(0, 120)).toEqual([status, code]);
    }
  });

  it('refuses more than five tables with 230099 naming sub-code 11310, markdown tables included', async () => {
    const five = { schema: '2.0', body: { elements: [{ tag: 'markdown', element_id: 'answer', content: [1, 2, 3, 4].map(table).join('\n') }, { tag: 'table', columns: [], rows: [] }] } };
    expect((await create(five)).body.code).toBe(0);
    const six = structuredClone(five);
    six.body.elements[0].content = [1, 2, 3, 4, 5].map(table).join('\n');
    const refused = await create(six);
    expect(refused.body.code).toBe(230099);
    expect(refused.body.msg).toContain('11310');
    // Streaming a sixth table into a card is refused the same way, and changes nothing.
    const cardId = await createId(streamingCard());
    const streamed = await content(cardId, 'answer', [1, 2, 3, 4, 5, 6].map(table).join('\n'), 1);
    expect([streamed.body.code, streamed.body.msg.includes('11310')]).toEqual([230099, true]);
    expect((await cardState(cardId)).card.body.elements[0].content).toBe('Thinking...');
    // A code block is not a table.
    expect((await content(cardId, 'answer', `\`\`\`\n${[1, 2, 3, 4, 5, 6].map(table).join('\n')}\`\`\``, 2)).body.code).toBe(0);
  });

  it('streams text with strictly increasing sequences and replays a repeated uuid', async () => {
    const cardId = await createId();
    expect((await content(cardId, 'answer', 'Hel', 1)).body.code).toBe(0);
    expect((await content(cardId, 'answer', 'Hello', 3, 'u-3')).body.code).toBe(0);
    // The same uuid again is the same operation: answered as before, nothing changes.
    expect((await content(cardId, 'answer', 'Hello', 3, 'u-3')).body.code).toBe(0);
    // The same uuid with another request conflicts.
    expect((await content(cardId, 'answer', 'Hello!', 4, 'u-3')).body.code).toBe(200770);
    for (const seq of [3, 2]) {
      const stale = await content(cardId, 'answer', 'late', seq);
      expect([stale.status, stale.body.code]).toEqual([400, 300317]);
    }
    expect((await content(cardId, 'answer', 'x', 0)).body.code).toBe(99992402);
    expect((await content(cardId, 'answer', '', 9)).body.code).toBe(99992402);
    expect((await content(cardId, 'missing', 'x', 9)).body.code).toBe(300313);
    const withButton = await createId({ schema: '2.0', config: { streaming_mode: true }, body: { elements: [{ tag: 'button', element_id: 'btn', text: { tag: 'plain_text', content: 'Go' } }] } });
    expect((await content(withButton, 'btn', 'x', 1)).body.code).toBe(300310);
    expect((await content('7000000000000000000', 'answer', 'x', 9)).body.code).toBe(200740);

    const state = await cardState(cardId);
    expect(state.card.body.elements[0].content).toBe('Hello');
    expect(state.sequence).toBe(3);
    expect(state.ops.map((o) => [o.kind, o.sequence, o.code, o.replay ?? false])).toEqual([
      ['create', null, 0, false],
      ['element_content', 1, 0, false],
      ['element_content', 3, 0, false],
      ['element_content', 3, 0, true],
      ['element_content', 4, 200770, false],
      ['element_content', 3, 300317, false],
      ['element_content', 2, 300317, false],
      ['element_content', 9, 300313, false],
    ]);
    expect(state.ops[2].content_length).toBe(5);
  });

  it('lets only the creating app operate or send its card', async () => {
    const cardId = await createId();
    const other = await control.post<World['app']>('/apps', { tenant_key: world.tenantKey, name: 'Other' });
    await control.post(`/chats/${chatId}/members`, { app_ids: [other.app_id] });
    const otherToken = await tenantToken(sim.url, other);
    const res = await request<LarkBody>(`${sim.url}/open-apis/cardkit/v1/cards/${cardId}/elements/answer/content`, {
      method: 'PUT',
      body: { content: 'mine now', sequence: 1 },
      headers: { authorization: `Bearer ${otherToken}` },
    });
    expect(res.body.code).toBe(300311);
    const sent = await sendEntity(cardId, otherToken);
    expect(sent.body.code).toBe(230099);
    expect(sent.body.msg).toContain('cardid is invalid');
    expect((await cardState(cardId)).sequence).toBe(0);
  });

  it('switches streaming off and sets the summary with settings, and replaces the whole card', async () => {
    const cardId = await createId();
    const done = await settings(cardId, { config: { streaming_mode: false, summary: { content: 'Done' } } }, 1);
    expect(done.body.code).toBe(0);
    let state = await cardState(cardId);
    expect([state.streaming_mode, state.summary]).toEqual([false, 'Done']);
    // Text streams only while streaming mode is on.
    expect((await content(cardId, 'answer', 'more', 2)).body.code).toBe(300309);
    expect((await settings(cardId, { config: { streaming_mode: true } }, 3)).body.code).toBe(0);
    expect((await content(cardId, 'answer', 'more', 4)).body.code).toBe(0);
    expect((await settings(cardId, { config: { update_multi: false } }, 5)).body.code).toBe(300302);
    expect((await settings(cardId, { header: {} }, 6)).body.code).toBe(300122);
    expect((await api('PATCH', `/cardkit/v1/cards/${cardId}/settings`, { settings: 'nope', sequence: 7 })).body.code).toBe(300122);

    const final = { schema: '2.0', config: { summary: { content: 'Final' } }, body: { elements: [{ tag: 'markdown', content: 'All done' }] } };
    expect((await replace(cardId, final, 8)).body.code).toBe(0);
    expect((await replace(cardId, { elements: [] }, 9)).body.code).toBe(300303);
    expect((await replace(cardId, final, 8)).body.code).toBe(300317);
    state = await cardState(cardId);
    expect(state.card).toEqual(final);
    expect([state.streaming_mode, state.summary, state.sequence]).toEqual([false, 'Final', 8]);
  });

  it('closes streaming mode by itself after the streaming timeout (200850)', async () => {
    const quick = await startSimulator({ streamingTimeoutMs: 1000 });
    try {
      const ctl = controlClient(quick.url);
      const w = await seedWorld(ctl);
      const t = await tenantToken(quick.url, w.app);
      const call = (method: string, path: string, body: unknown) =>
        request<LarkBody>(`${quick.url}/open-apis${path}`, { method, body, headers: { authorization: `Bearer ${t}` } });
      const created = await call('POST', '/cardkit/v1/cards', { type: 'card_json', data: JSON.stringify(streamingCard()) });
      const cardId = created.body.data!.card_id!;
      expect((await call('PUT', `/cardkit/v1/cards/${cardId}/elements/answer/content`, { content: 'a', sequence: 1 })).body.code).toBe(0);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await call('PUT', `/cardkit/v1/cards/${cardId}/elements/answer/content`, { content: 'ab', sequence: 2 })).body.code).toBe(200850);
      expect((await ctl.get<CardState>(`/cards/${cardId}`)).streaming_mode).toBe(false);
      // Switching it on again opens a new window.
      const reopen = await call('PATCH', `/cardkit/v1/cards/${cardId}/settings`, { settings: '{"config":{"streaming_mode":true}}', sequence: 3 });
      expect(reopen.body.code).toBe(0);
      expect((await call('PUT', `/cardkit/v1/cards/${cardId}/elements/answer/content`, { content: 'ab', sequence: 4 })).body.code).toBe(0);
    } finally {
      await quick.close();
    }
  });

  it('limits operations on one card to cardOpsPerSecond (230020), creation included, per card', async () => {
    const limited = await startSimulator({ cardOpsPerSecond: 4, rateLimitPerSecond: 1000 });
    try {
      const ctl = controlClient(limited.url);
      const w = await seedWorld(ctl);
      const t = await tenantToken(limited.url, w.app);
      const call = (method: string, path: string, body: unknown) =>
        request<LarkBody>(`${limited.url}/open-apis${path}`, { method, body, headers: { authorization: `Bearer ${t}` } });
      const newCard = async () =>
        (await call('POST', '/cardkit/v1/cards', { type: 'card_json', data: JSON.stringify(streamingCard()) })).body.data!.card_id!;
      const [first, second] = [await newCard(), await newCard()];
      const codes: number[] = [];
      for (let seq = 1; seq <= 5; seq++) {
        codes.push((await call('PUT', `/cardkit/v1/cards/${first}/elements/answer/content`, { content: `t${seq}`, sequence: seq })).body.code);
      }
      // The create and three updates fill the window; the other card has its own.
      expect(codes).toEqual([0, 0, 0, 230020, 230020]);
      expect((await call('PUT', `/cardkit/v1/cards/${second}/elements/answer/content`, { content: 'x', sequence: 1 })).body.code).toBe(0);
      // A refused operation does not use up its sequence: it can be retried once the window moves on.
      await new Promise((r) => setTimeout(r, 1050));
      expect((await call('PUT', `/cardkit/v1/cards/${first}/elements/answer/content`, { content: 't4', sequence: 4 })).body.code).toBe(0);
      const { ops } = await ctl.get<CardState>(`/cards/${first}`);
      const applied = ops.filter((o) => o.code === 0);
      expect(applied.map((o) => o.sequence)).toEqual([null, 1, 2, 3, 4]);
      expect(ops.filter((o) => o.code === 230020)).toHaveLength(2);
    } finally {
      await limited.close();
    }
  });

  it('sends an entity once; the message shows the entity live', async () => {
    const cardId = await createId();
    expect((await api('POST', '/im/v1/messages?receive_id_type=chat_id', {
      receive_id: chatId,
      msg_type: 'interactive',
      content: JSON.stringify({ card_id: cardId }),
    })).body.code).toBe(200621);
    const sent = await sendEntity(cardId);
    expect(sent.body.code).toBe(0);
    const messageId = sent.body.data!.message_id!;
    const again = await sendEntity(cardId);
    expect([again.body.code, again.body.msg.includes('cardid is invalid')]).toEqual([230099, true]);
    expect((await sendEntity('7000000000000000000')).body.code).toBe(230099);
    // A card entity message is updated through CardKit, not by patching the message.
    const patch = await api('PATCH', `/im/v1/messages/${messageId}`, { content: JSON.stringify(streamingCard()) });
    expect(patch.body.code).toBe(230001);

    const shown = async () => (await control.get<Transcript>(`/chats/${chatId}/messages`)).messages.find((m) => m.message_id === messageId)!;
    expect((await shown()).card_entity).toEqual(expect.objectContaining({ card_id: cardId, streaming_mode: true, summary: '[Generating]' }));
    expect((await content(cardId, 'answer', 'The answer is 42', 1)).body.code).toBe(0);
    expect((await shown()).content.body.elements[0].content).toBe('The answer is 42');
    expect((await settings(cardId, { config: { streaming_mode: false, summary: { content: 'The answer is 42' } } }, 2)).body.code).toBe(0);
    expect((await shown()).card_entity).toEqual(expect.objectContaining({ streaming_mode: false, summary: 'The answer is 42' }));
    expect((await cardState(cardId)).message_id).toBe(messageId);
    const { messages } = await control.get<Transcript>(`/chats/${chatId}/messages`);
    expect(messages).toHaveLength(1);
  });

  it('replies with an entity into a topic', async () => {
    const question = await control.post<{ message_id: string }>('/messages', { user_id: world.userId, chat_id: chatId, text: 'question' });
    const cardId = await createId();
    const reply = await api('POST', `/im/v1/messages/${question.message_id}/reply`, {
      msg_type: 'interactive',
      content: JSON.stringify({ type: 'card', data: { card_id: cardId } }),
      reply_in_thread: true,
    });
    expect(reply.body.code).toBe(0);
    expect(reply.body.data).toEqual(expect.objectContaining({ root_id: question.message_id, thread_id: expect.stringMatching(/^omt_/) }));
    expect((await cardState(cardId)).message_id).toBe(reply.body.data!.message_id);
  });
});
