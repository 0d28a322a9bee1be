import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { headerValue } from './frames';
import { startSimulator, type Simulator } from './server';
import { controlClient, RawEventClient, request, seedTeamChat, waitFor, type Control, type World } from './test-support';

type LarkBody = { code: number; msg: string; data?: { message_id?: string; card_id?: string } };
type ActionEvent = {
  schema: string;
  header: { event_type: string; app_id: string; event_id: string; token: string };
  event: {
    operator: { open_id: string; union_id: string; user_id: string; name: string; tenant_key: string };
    token: string;
    action: { tag: string; value: unknown };
    context: { open_message_id: string; open_chat_id: string };
  };
};
type ClickResult = {
  status: string;
  event_id?: string;
  url?: string;
  toast: { type: string; content: string } | null;
  card: Record<string, unknown> | null;
  response: unknown;
  error?: string;
};
type Row = { message_id: string; content: Record<string, unknown>; updates: unknown[]; card_entity: { streaming_mode: boolean } | null };

const stopCard = (taskId: string) => ({
  schema: '2.0',
  config: { update_multi: true },
  body: {
    elements: [
      { tag: 'markdown', content: 'Working on it' },
      {
        tag: 'column_set',
        columns: [
          {
            tag: 'column',
            elements: [
              { tag: 'button', text: { tag: 'plain_text', content: 'Docs' }, behaviors: [{ type: 'open_url', default_url: 'https://example.com/docs' }] },
              { tag: 'button', text: { tag: 'plain_text', content: 'Stop' }, type: 'danger', behaviors: [{ type: 'callback', value: { a: 'stop', task: taskId } }] },
            ],
          },
        ],
      },
    ],
  },
});
const stoppedCard = { schema: '2.0', config: { update_multi: true }, body: { elements: [{ tag: 'markdown', content: 'Stopped.' }] } };

describe('card buttons over the long connection', () => {
  let sim: Simulator;
  let control: Control;
  let world: World;
  let token: string;
  let chatId: string;
  let bot: RawEventClient;
  const clients: RawEventClient[] = [];

  const api = (method: string, path: string, body?: unknown) =>
    request<LarkBody>(`${sim.url}/open-apis${path}`, { method, body, headers: { authorization: `Bearer ${token}` } });
  const sendCard = async (card: unknown) => {
    const res = await api('POST', '/im/v1/messages?receive_id_type=chat_id', { receive_id: chatId, msg_type: 'interactive', content: JSON.stringify(card) });
    expect(res.body.code, JSON.stringify(res.body)).toBe(0);
    return res.body.data!.message_id!;
  };
  const click = (messageId: string, body: Record<string, unknown>) =>
    request<ClickResult>(`${sim.url}/_control/messages/${messageId}/card-action`, { body: { user_id: world.userId, ...body } });
  const actionEvents = () =>
    bot.events().filter((e) => (e.body as unknown as ActionEvent).header.event_type === 'card.action.trigger');
  const row = async (messageId: string) =>
    (await control.get<{ messages: Row[] }>(`/chats/${chatId}/messages`)).messages.find((m) => m.message_id === messageId)!;

  beforeAll(async () => {
    sim = await startSimulator({ ackTimeoutMs: 1500, redeliveryBackoffMs: 50, maxDeliveryAttempts: 2 });
    control = controlClient(sim.url);
  });
  afterAll(() => sim.close());
  beforeEach(async () => {
    ({ world, token, chatId } = await seedTeamChat(sim.url, control));
    bot = await RawEventClient.connect(sim.url, world.app);
    clients.push(bot);
  });
  afterEach(() => clients.splice(0).forEach((c) => c.close()));

  it('sends card.action.trigger, and applies the toast and card carried by the ACK', async () => {
    const messageId = await sendCard(stopCard('t-1'));
    const pressed = click(messageId, { index: 1 });
    const delivered = await waitFor(() => actionEvents()[0], { what: 'the card action event' });
    expect(headerValue(delivered.frame, 'type')).toBe('event');
    const event = delivered.body as unknown as ActionEvent;
    const { open_id: openId } = await control.get<{ open_id: string }>(`/apps/${world.app.app_id}/open-id?user_id=${world.userId}`);
    expect(event.schema).toBe('2.0');
    expect(event.header).toEqual(expect.objectContaining({ event_type: 'card.action.trigger', app_id: world.app.app_id }));
    expect(event.event.operator).toEqual(expect.objectContaining({ open_id: openId, name: 'Ada', user_id: expect.any(String), union_id: expect.stringMatching(/^on_/) }));
    expect(event.event.action).toEqual({ tag: 'button', value: { a: 'stop', task: 't-1' } });
    expect(event.event.context).toEqual({ open_message_id: messageId, open_chat_id: chatId });
    expect(event.event.token).toMatch(/^c-/);

    bot.ack(delivered.frame, 200, { toast: { type: 'success', content: 'Stopped' }, card: { type: 'raw', data: stoppedCard } });
    const result = (await pressed).body;
    expect(result).toEqual(
      expect.objectContaining({ status: 'answered', event_id: event.header.event_id, toast: { type: 'success', content: 'Stopped' }, card: stoppedCard }),
    );
    const shown = await row(messageId);
    expect(shown.content).toEqual(stoppedCard);
    expect(shown.updates).toEqual([stoppedCard]);
    const { deliveries } = await control.get<{ deliveries: Array<{ event_type: string; status: string }> }>(`/deliveries?app_id=${world.app.app_id}`);
    expect(deliveries.find((d) => d.event_type === 'card.action.trigger')?.status).toBe('acked');
  });

  it('finds a callback button by its value and shows only a toast when the answer has no card', async () => {
    const messageId = await sendCard(stopCard('t-2'));
    const pressed = click(messageId, { value: { a: 'stop', task: 't-2' } });
    const delivered = await waitFor(() => actionEvents()[0], { what: 'the card action event' });
    bot.ack(delivered.frame, 200, { toast: { type: 'info', content: 'Already stopped' } });
    expect((await pressed).body).toEqual(expect.objectContaining({ status: 'answered', toast: { type: 'info', content: 'Already stopped' }, card: null }));
    expect((await row(messageId)).content).toEqual(stopCard('t-2'));
    expect((await click(messageId, { value: { a: 'nope' } })).status).toBe(400);
    expect((await click(messageId, { index: 7 })).status).toBe(400);
  });

  it('opens a link button without telling the bot', async () => {
    const messageId = await sendCard(stopCard('t-3'));
    const result = await click(messageId, { index: 0 });
    expect(result.body).toEqual({ status: 'open_url', url: 'https://example.com/docs' });
    await new Promise((r) => setTimeout(r, 100));
    expect(actionEvents()).toEqual([]);
  });

  it('shows the user an error and changes nothing on no answer, a refusal or a malformed answer', async () => {
    const messageId = await sendCard(stopCard('t-4'));
    const silent = await click(messageId, { index: 1 });
    expect(silent.body).toEqual(expect.objectContaining({ status: 'timeout', card: null, toast: expect.objectContaining({ type: 'error' }) }));

    // The unanswered press is redelivered meanwhile: tell the presses apart by their event ids.
    const seen = new Set([silent.body.event_id]);
    const nextPress = () =>
      waitFor(() => actionEvents().find((e) => !seen.has((e.body as unknown as ActionEvent).header.event_id)), { what: 'the next press' });
    const refused = click(messageId, { index: 1 });
    const second = await nextPress();
    seen.add((second.body as unknown as ActionEvent).header.event_id);
    bot.ack(second.frame, 500);
    expect((await refused).body.status).toBe('rejected');

    const malformed = click(messageId, { index: 1 });
    const third = await nextPress();
    bot.ack(third.frame, 200, { card: { type: 'raw', data: { schema: '2.0', body: { elements: [{ tag: 'nonsense' }] } } } });
    expect((await malformed).body).toEqual(expect.objectContaining({ status: 'rejected', card: null }));
    expect((await row(messageId)).content).toEqual(stopCard('t-4'));
  });

  it('refuses card entity updates while a press waits for its answer (200810), then applies the answer', async () => {
    const created = await api('POST', '/cardkit/v1/cards', {
      type: 'card_json',
      data: JSON.stringify({ ...stopCard('t-5'), config: { streaming_mode: true }, body: { elements: [{ tag: 'markdown', element_id: 'answer', content: '...' }, ...stopCard('t-5').body.elements.slice(1)] } }),
    });
    const cardId = created.body.data!.card_id!;
    const sent = await api('POST', '/im/v1/messages?receive_id_type=chat_id', {
      receive_id: chatId,
      msg_type: 'interactive',
      content: JSON.stringify({ type: 'card', data: { card_id: cardId } }),
    });
    const messageId = sent.body.data!.message_id!;
    const pressed = click(messageId, { index: 1 });
    const delivered = await waitFor(() => actionEvents()[0], { what: 'the card action event' });
    const during = await api('PUT', `/cardkit/v1/cards/${cardId}/elements/answer/content`, { content: 'more', sequence: 1 });
    expect(during.body.code).toBe(200810);
    bot.ack(delivered.frame, 200, { toast: { type: 'success', content: 'Stopped' }, card: { type: 'raw', data: stoppedCard } });
    expect((await pressed).body.status).toBe('answered');
    const shown = await row(messageId);
    expect(shown.content).toEqual(stoppedCard);
    expect(shown.card_entity?.streaming_mode).toBe(false);
    // The answer ended the interaction: settings go through again.
    const after = await api('PATCH', `/cardkit/v1/cards/${cardId}/settings`, { settings: '{"config":{"summary":{"content":"Stopped"}}}', sequence: 1 });
    expect(after.body.code).toBe(0);
  });
});
