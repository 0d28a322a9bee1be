import { Client, DefaultCache, EventDispatcher, LoggerLevel, WSClient } from '@larksuiteoapi/node-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './server';
import { larkCode, controlClient, quietSdkLogger, seedWorld, startSdkWorld, waitFor, type Control, type World } from './test-support';

// The official SDK is the referee for request shapes: every conversation feature through its own
// methods, and a card button answered by its WSClient + EventDispatcher.

type Row = {
  message_id: string;
  content: { body: { elements: Array<{ content?: string }> } };
  card_entity: { card_id: string; streaming_mode: boolean; summary: string | null } | null;
  recalled_at: number | null;
  reactions: Array<{ emoji_type: string }>;
};

describe('official SDK Client: CardKit, reactions, chats, recall', () => {
  let sim: Simulator;
  let control: Control;
  let world: World;
  let client: Client;
  let chatId: string;

  const rows = async () => (await control.get<{ messages: Row[] }>(`/chats/${chatId}/messages`)).messages;

  beforeAll(async () => {
    ({ sim, control, world, client, chatId } = await startSdkWorld());
  });
  afterAll(() => sim.close());

  it('streams an answer into a card entity the way the SDK’s own channel layer does', async () => {
    const card = {
      schema: '2.0',
      config: { streaming_mode: true, summary: { content: '[Generating...]' }, streaming_config: { print_strategy: 'fast' } },
      body: { elements: [{ tag: 'markdown', element_id: 'stream_md', content: 'Thinking...' }] },
    };
    const created = await client.cardkit.v1.card.create({ data: { type: 'card_json', data: JSON.stringify(card) } });
    expect(created.code).toBe(0);
    const cardId = created.data!.card_id;

    const sent = await client.im.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: chatId, msg_type: 'interactive', content: JSON.stringify({ type: 'card', data: { card_id: cardId } }) },
    });
    expect(sent.code).toBe(0);
    const messageId = sent.data!.message_id!;

    let sequence = 0;
    for (const text of ['The', 'The answer', 'The answer is 42']) {
      sequence += 1;
      const res = await client.cardkit.v1.cardElement.content({
        path: { card_id: cardId, element_id: 'stream_md' },
        data: { content: text, sequence, uuid: `c_${cardId}_${sequence}` },
      });
      expect(res.code).toBe(0);
    }
    // A stale sequence is refused.
    expect(
      await larkCode(client.cardkit.v1.cardElement.content({ path: { card_id: cardId, element_id: 'stream_md' }, data: { content: 'late', sequence: 2 } })),
    ).toBe(300317);
    let shown = (await rows()).find((m) => m.message_id === messageId)!;
    expect(shown.content.body.elements[0].content).toBe('The answer is 42');
    expect(shown.card_entity?.streaming_mode).toBe(true);

    sequence += 1;
    const finished = await client.cardkit.v1.card.settings({
      path: { card_id: cardId },
      data: { settings: JSON.stringify({ config: { streaming_mode: false, summary: { content: 'The answer is 42' } } }), sequence, uuid: `s_${cardId}_${sequence}` },
    });
    expect(finished.code).toBe(0);
    shown = (await rows()).find((m) => m.message_id === messageId)!;
    expect(shown.card_entity).toEqual(expect.objectContaining({ streaming_mode: false, summary: 'The answer is 42' }));

    sequence += 1;
    const final = { schema: '2.0', body: { elements: [{ tag: 'markdown', content: 'Final answer: 42' }] } };
    const replaced = await client.cardkit.v1.card.update({
      path: { card_id: cardId },
      data: { card: { type: 'card_json', data: JSON.stringify(final) }, sequence },
    });
    expect(replaced.code).toBe(0);
    shown = (await rows()).find((m) => m.message_id === messageId)!;
    expect(shown.content).toEqual(final);
  });

  it('adds, lists and removes a reaction, reads the chat and recalls its own message', async () => {
    const { message_id: question } = await control.post<{ message_id: string }>('/messages', { user_id: world.userId, chat_id: chatId, text: 'hi' });
    const added = await client.im.messageReaction.create({ path: { message_id: question }, data: { reaction_type: { emoji_type: 'Typing' } } });
    expect(added.code).toBe(0);
    expect(added.data).toEqual(expect.objectContaining({ operator: { operator_id: world.app.app_id, operator_type: 'app' }, reaction_type: { emoji_type: 'Typing' } }));
    const listed = await client.im.messageReaction.list({ path: { message_id: question }, params: { page_size: 10 } });
    expect(listed.data?.items.map((r) => r.reaction_id)).toEqual([added.data!.reaction_id]);
    expect(listed.data?.has_more).toBe(false);
    const removed = await client.im.messageReaction.delete({ path: { message_id: question, reaction_id: added.data!.reaction_id! } });
    expect(removed.code).toBe(0);
    expect((await rows()).find((m) => m.message_id === question)!.reactions).toEqual([]);

    const chat = await client.im.chat.get({ path: { chat_id: chatId } });
    expect(chat.data).toEqual(expect.objectContaining({ name: 'Team', chat_mode: 'group', group_message_type: 'chat' }));

    const answer = await client.im.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: chatId, msg_type: 'text', content: JSON.stringify({ text: 'wrong chat, sorry' }) },
    });
    const deleted = await client.im.message.delete({ path: { message_id: answer.data!.message_id! } });
    expect(deleted.code).toBe(0);
    expect((await rows()).find((m) => m.message_id === answer.data!.message_id)!.recalled_at).toEqual(expect.any(Number));
    expect(await larkCode(client.im.message.delete({ path: { message_id: answer.data!.message_id! } }))).toBe(230011);
    expect(await larkCode(client.im.message.delete({ path: { message_id: question } }))).toBe(230026);
  });
});

describe('official SDK WSClient answers a card button', () => {
  let sim: Simulator;
  let control: Control;

  beforeAll(async () => {
    sim = await startSimulator({ ackTimeoutMs: 2000 });
    control = controlClient(sim.url);
  });
  afterAll(() => sim.close());

  it('hands card.action.trigger to its EventDispatcher and returns the handler’s answer in the ACK', async () => {
    const world = await seedWorld(control);
    const { chat_id: chatId } = await control.post<{ chat_id: string }>('/chats', {
      tenant_key: world.tenantKey,
      name: 'Team',
      user_ids: [world.userId],
      app_ids: [world.app.app_id],
    });
    const http = new Client({ appId: world.app.app_id, appSecret: world.app.app_secret, domain: sim.url, cache: new DefaultCache(), logger: quietSdkLogger, loggerLevel: LoggerLevel.error });
    const card = {
      schema: '2.0',
      config: { update_multi: true },
      body: { elements: [{ tag: 'button', text: { tag: 'plain_text', content: 'Stop' }, behaviors: [{ type: 'callback', value: { a: 'stop', task: 'abc' } }] }] },
    };
    const sent = await http.im.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: chatId, msg_type: 'interactive', content: JSON.stringify(card) },
    });
    const messageId = sent.data!.message_id!;

    const seen: Array<Record<string, unknown>> = [];
    const stopped = { schema: '2.0', config: { update_multi: true }, body: { elements: [{ tag: 'markdown', content: 'Stopped by you.' }] } };
    const dispatcher = new EventDispatcher({ logger: quietSdkLogger, loggerLevel: LoggerLevel.error }).register({
      'card.action.trigger': async (data: Record<string, unknown>) => {
        seen.push(data);
        return { toast: { type: 'success', content: 'Stopping…' }, card: { type: 'raw', data: stopped } };
      },
    } as Record<string, (data: Record<string, unknown>) => Promise<unknown>>);
    const ws = new WSClient({ appId: world.app.app_id, appSecret: world.app.app_secret, domain: sim.url, logger: quietSdkLogger, loggerLevel: LoggerLevel.error });
    try {
      void ws.start({ eventDispatcher: dispatcher });
      await waitFor(async () => (await control.get<{ connections: number }>(`/apps/${world.app.app_id}`)).connections === 1, { what: 'the SDK to connect' });
      const result = await control.post<{ status: string; toast: unknown; card: unknown }>(`/messages/${messageId}/card-action`, {
        user_id: world.userId,
        index: 0,
      });
      expect(result).toEqual(expect.objectContaining({ status: 'answered', toast: { type: 'success', content: 'Stopping…' }, card: stopped }));
      expect(seen[0]).toEqual(
        expect.objectContaining({
          action: expect.objectContaining({ tag: 'button', value: { a: 'stop', task: 'abc' } }),
          context: { open_message_id: messageId, open_chat_id: chatId },
        }),
      );
      const { messages } = await control.get<{ messages: Array<{ message_id: string; content: unknown }> }>(`/chats/${chatId}/messages`);
      expect(messages.find((m) => m.message_id === messageId)!.content).toEqual(stopped);
    } finally {
      ws.close({ force: true });
    }
  });
});
