import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './server';
import { controlClient, groupChat, RawEventClient, request, seedTeamChat, tenantToken, waitFor, type Control, type World } from './test-support';

type LarkBody = { code: number; msg: string; data?: Record<string, unknown> };
type Reaction = { reaction_id: string; operator: { operator_id: string; operator_type: string }; action_time: string; reaction_type: { emoji_type: string } };
type MessageRow = {
  message_id: string;
  recalled_at: number | null;
  recall_type: string | null;
  thread_id: string | null;
  root_id: string | null;
  reactions: Array<{ emoji_type: string; operator: { type: string; id: string; name: string } }>;
};
type Envelope = { header: { event_type: string; app_id: string; event_id: string }; event: Record<string, unknown> };

describe('conversation features', () => {
  let sim: Simulator;
  let control: Control;
  let world: World;
  let token: string;
  let chatId: string;
  const clients: RawEventClient[] = [];

  const api = (method: string, path: string, body?: unknown, bearer = token) =>
    request<LarkBody>(`${sim.url}/open-apis${path}`, { method, body, headers: { authorization: `Bearer ${bearer}` } });
  const say = (text: string, extra: Record<string, unknown> = {}) =>
    control.post<{ message_id: string }>('/messages', { user_id: world.userId, chat_id: chatId, text, ...extra });
  const botSays = async (text: string) => {
    const res = await api('POST', '/im/v1/messages?receive_id_type=chat_id', { receive_id: chatId, msg_type: 'text', content: JSON.stringify({ text }) });
    return res.body.data!.message_id as string;
  };
  const rows = async (chat = chatId) => (await control.get<{ messages: MessageRow[] }>(`/chats/${chat}/messages`)).messages;
  const listen = async (app: World['app'] = world.app) => {
    const client = await RawEventClient.connect(sim.url, app);
    client.autoAck = 200;
    clients.push(client);
    return client;
  };
  const eventsOf = (client: RawEventClient, type: string) =>
    client.events().map((e) => e.body as unknown as Envelope).filter((e) => e.header.event_type === type);

  beforeAll(async () => {
    sim = await startSimulator({ rateLimitPerSecond: 1000, chatRateLimitPerSecond: 1000 });
    control = controlClient(sim.url);
  });
  afterAll(() => sim.close());
  beforeEach(async () => {
    ({ world, token, chatId } = await seedTeamChat(sim.url, control));
  });
  afterEach(() => clients.splice(0).forEach((c) => c.close()));

  describe('reactions', () => {
    it('adds, lists (paged) and removes the bot’s reactions', async () => {
      const { message_id: messageId } = await say('please help');
      const added = await api('POST', `/im/v1/messages/${messageId}/reactions`, { reaction_type: { emoji_type: 'Typing' } });
      expect(added.body.code).toBe(0);
      const reaction = added.body.data as Reaction;
      expect(reaction).toEqual({
        reaction_id: expect.any(String),
        operator: { operator_id: world.app.app_id, operator_type: 'app' },
        action_time: expect.stringMatching(/^\d{13}$/),
        reaction_type: { emoji_type: 'Typing' },
      });
      expect((await rows())[0].reactions).toEqual([expect.objectContaining({ emoji_type: 'Typing', operator: expect.objectContaining({ type: 'app', name: 'Helper' }) })]);
      // The same reaction twice is refused; another emoji is fine.
      expect((await api('POST', `/im/v1/messages/${messageId}/reactions`, { reaction_type: { emoji_type: 'Typing' } })).body.code).toBe(231015);
      for (const emoji of ['OK', 'DONE', 'THUMBSUP']) {
        expect((await api('POST', `/im/v1/messages/${messageId}/reactions`, { reaction_type: { emoji_type: emoji } })).body.code).toBe(0);
      }

      const first = await api('GET', `/im/v1/messages/${messageId}/reactions?page_size=3`);
      const page1 = first.body.data as { items: Reaction[]; has_more: boolean; page_token: string };
      expect(page1.items.map((r) => r.reaction_type.emoji_type)).toEqual(['Typing', 'OK', 'DONE']);
      expect(page1.has_more).toBe(true);
      const second = await api('GET', `/im/v1/messages/${messageId}/reactions?page_size=3&page_token=${page1.page_token}`);
      expect((second.body.data as { items: Reaction[]; has_more: boolean }).items.map((r) => r.reaction_type.emoji_type)).toEqual(['THUMBSUP']);
      expect((second.body.data as { has_more: boolean }).has_more).toBe(false);
      const filtered = await api('GET', `/im/v1/messages/${messageId}/reactions?reaction_type=OK`);
      expect((filtered.body.data as { items: Reaction[] }).items).toHaveLength(1);
      expect((await api('GET', `/im/v1/messages/${messageId}/reactions?page_token=bogus`)).body.code).toBe(231012);

      const removed = await api('DELETE', `/im/v1/messages/${messageId}/reactions/${reaction.reaction_id}`);
      expect(removed.body.code).toBe(0);
      expect((removed.body.data as Reaction).reaction_id).toBe(reaction.reaction_id);
      expect((await api('DELETE', `/im/v1/messages/${messageId}/reactions/${reaction.reaction_id}`)).body.code).toBe(231011);
      expect((await rows())[0].reactions.map((r) => r.emoji_type)).toEqual(['OK', 'DONE', 'THUMBSUP']);
    });

    it('refuses unknown emoji, other bots’ reactions, chats the bot is not in and recalled messages', async () => {
      const { message_id: messageId } = await say('hello');
      expect((await api('POST', `/im/v1/messages/${messageId}/reactions`, { reaction_type: { emoji_type: 'typing' } })).body.code).toBe(231001);
      expect((await api('POST', `/im/v1/messages/${messageId}/reactions`, {})).body.code).toBe(99992402);
      expect((await api('POST', `/im/v1/messages/om_missing/reactions`, { reaction_type: { emoji_type: 'OK' } })).body.code).toBe(231003);

      const other = await control.post<World['app']>('/apps', { tenant_key: world.tenantKey, name: 'Other' });
      const otherToken = await tenantToken(sim.url, other);
      expect((await api('POST', `/im/v1/messages/${messageId}/reactions`, { reaction_type: { emoji_type: 'OK' } }, otherToken)).body.code).toBe(231002);
      await control.post(`/chats/${chatId}/members`, { app_ids: [other.app_id] });
      const mine = (await api('POST', `/im/v1/messages/${messageId}/reactions`, { reaction_type: { emoji_type: 'OK' } })).body.data as Reaction;
      expect((await api('DELETE', `/im/v1/messages/${messageId}/reactions/${mine.reaction_id}`, undefined, otherToken)).body.code).toBe(231007);
      const { message_id: elsewhere } = await say('another');
      expect((await api('DELETE', `/im/v1/messages/${elsewhere}/reactions/${mine.reaction_id}`)).body.code).toBe(231010);

      await control.post(`/messages/${messageId}/recall`, { user_id: world.userId });
      expect((await api('POST', `/im/v1/messages/${messageId}/reactions`, { reaction_type: { emoji_type: 'DONE' } })).body.code).toBe(231003);
      expect((await api('GET', `/im/v1/messages/${messageId}/reactions`)).body.code).toBe(231003);
    });
  });

  describe('recall', () => {
    it('lets the bot delete its own message once, and not a user’s', async () => {
      const listener = await listen();
      const messageId = await botSays('oops');
      const { message_id: userMessage } = await say('mine');
      expect((await api('DELETE', `/im/v1/messages/${userMessage}`)).body.code).toBe(230026);
      expect((await api('DELETE', `/im/v1/messages/${messageId}`)).body.code).toBe(0);
      expect((await api('DELETE', `/im/v1/messages/${messageId}`)).body.code).toBe(230011);
      expect((await api('DELETE', '/im/v1/messages/om_missing')).body.code).toBe(230001);
      const recalled = (await rows()).find((m) => m.message_id === messageId)!;
      expect(recalled.recalled_at).toEqual(expect.any(Number));
      expect((await rows()).find((m) => m.message_id === userMessage)!.recalled_at).toBeNull();
      // A recalled message cannot be replied to.
      const reply = await api('POST', `/im/v1/messages/${messageId}/reply`, { msg_type: 'text', content: '{"text":"x"}' });
      expect(reply.body.code).toBe(230011);
      // Every bot of the chat hears about it.
      const event = await waitFor(() => eventsOf(listener, 'im.message.recalled_v1')[0], { what: 'the recall event' });
      expect(event.event).toEqual(expect.objectContaining({ message_id: messageId, chat_id: chatId, recall_type: 'message_owner' }));
    });

    it('lets a user recall their own message and tells every bot of the chat', async () => {
      const other = await control.post<World['app']>('/apps', { tenant_key: world.tenantKey, name: 'Other' });
      const [mine, theirs] = [await listen(), await listen(other)];
      await control.post(`/chats/${chatId}/members`, { app_ids: [other.app_id] });
      const { message_id: messageId } = await say('never mind');
      const result = await control.post<{ message_id: string; recall_time: number; deliveries: Array<{ app_id: string }> }>(`/messages/${messageId}/recall`, {
        user_id: world.userId,
      });
      expect(result.deliveries.map((d) => d.app_id).sort()).toEqual([world.app.app_id, other.app_id].sort());
      for (const client of [mine, theirs]) {
        const event = await waitFor(() => eventsOf(client, 'im.message.recalled_v1')[0], { what: 'the recall event' });
        expect(event.event).toEqual({ message_id: messageId, chat_id: chatId, recall_time: String(result.recall_time), recall_type: 'message_owner' });
      }
      const raw = (body: unknown, id = messageId) => request<{ error: { code: string } }>(`${sim.url}/_control/messages/${id}/recall`, { body });
      expect((await raw({ user_id: world.userId })).status).toBe(409);
      const botMessage = await botSays('bot text');
      expect((await raw({ user_id: world.userId }, botMessage)).status).toBe(400);
      expect((await rows()).find((m) => m.message_id === messageId)!.recall_type).toBe('message_owner');
    });
  });

  describe('chats', () => {
    it('describes chats the bot is in: name, chat_mode, group_message_type', async () => {
      const got = await api('GET', `/im/v1/chats/${chatId}`);
      expect(got.body.code).toBe(0);
      expect(got.body.data).toEqual(expect.objectContaining({ name: 'Team', chat_mode: 'group', group_message_type: 'chat', user_count: '1', bot_count: '1' }));
      const topics = await groupChat(control, world, 'Topics', { chat_mode: 'topic' });
      expect((await api('GET', `/im/v1/chats/${topics}`)).body.data).toEqual(expect.objectContaining({ chat_mode: 'topic', group_message_type: 'thread' }));
      const { chat_id: p2p } = await control.get<{ chat_id: string }>(`/p2p?app_id=${world.app.app_id}&user_id=${world.userId}`);
      const dm = await api('GET', `/im/v1/chats/${p2p}`);
      expect(dm.body.data).toEqual(expect.objectContaining({ chat_mode: 'p2p', name: '' }));
      expect(dm.body.data).not.toHaveProperty('group_message_type');

      const { chat_id: without } = await control.post<{ chat_id: string }>('/chats', { tenant_key: world.tenantKey, name: 'No bots', user_ids: [world.userId] });
      expect((await api('GET', `/im/v1/chats/${without}`)).body.code).toBe(232011);
      expect((await api('GET', '/im/v1/chats/oc_missing')).body.code).toBe(232006);
    });

    it('opens a topic for every top-level message of a topic group', async () => {
      const listener = await listen();
      const topics = await groupChat(control, world, 'Topics', { chat_mode: 'topic' });
      const first = await control.post<{ message_id: string }>('/messages', { user_id: world.userId, chat_id: topics, text: 'topic one' });
      const second = await control.post<{ message_id: string }>('/messages', { user_id: world.userId, chat_id: topics, text: 'topic two' });
      const followUp = await control.post<{ message_id: string }>('/messages', { user_id: world.userId, chat_id: topics, text: 'more', root_id: first.message_id });
      const all = await rows(topics);
      const [a, b, c] = all;
      expect(a.thread_id).toMatch(/^omt_/);
      expect(b.thread_id).toMatch(/^omt_/);
      expect(a.thread_id).not.toBe(b.thread_id);
      expect([c.message_id, c.root_id, c.thread_id]).toEqual([followUp.message_id, first.message_id, a.thread_id]);
      const events = await waitFor(() => {
        const got = eventsOf(listener, 'im.message.receive_v1');
        return got.length === 3 ? got : undefined;
      });
      const message = (e: Envelope) => e.event.message as { message_id: string; thread_id?: string };
      expect(events.map((e) => message(e).thread_id)).toEqual([a.thread_id, b.thread_id, a.thread_id]);
      expect(message(events[1]).message_id).toBe(second.message_id);
    });
  });

  describe('membership and first contact', () => {
    it('tells a bot it was added to and removed from a group, naming the operator', async () => {
      const other = await control.post<World['app']>('/apps', { tenant_key: world.tenantKey, name: 'Other' });
      const listener = await listen(other);
      const bob = await control.post<{ id: string; union_id: string }>('/users', { tenant_key: world.tenantKey, name: 'Bob' });
      const added = await control.post<{ deliveries: Array<{ app_id: string }> }>(`/chats/${chatId}/members`, {
        user_ids: [bob.id],
        app_ids: [other.app_id],
        operator_user_id: bob.id,
      });
      expect(added.deliveries.map((d) => d.app_id)).toEqual([other.app_id]);
      const join = await waitFor(() => eventsOf(listener, 'im.chat.member.bot.added_v1')[0], { what: 'the added event' });
      expect(join.event).toEqual(expect.objectContaining({ chat_id: chatId, name: 'Team', operator_id: expect.objectContaining({ union_id: bob.union_id }) }));
      // Adding a bot that is already there tells nobody.
      expect((await control.post<{ deliveries: unknown[] }>(`/chats/${chatId}/members`, { app_ids: [other.app_id] })).deliveries).toEqual([]);

      const removed = await request<{ deliveries: Array<{ app_id: string }> }>(`${sim.url}/_control/chats/${chatId}/members`, {
        method: 'DELETE',
        body: { app_ids: [other.app_id] },
      });
      expect(removed.body.deliveries.map((d) => d.app_id)).toEqual([other.app_id]);
      const leave = await waitFor(() => eventsOf(listener, 'im.chat.member.bot.deleted_v1')[0], { what: 'the deleted event' });
      expect(leave.event).toEqual(expect.objectContaining({ chat_id: chatId }));
      const state = await control.get<{ chats: Array<{ chat_id: string; app_ids: string[] }> }>('/state');
      expect(state.chats.find((c) => c.chat_id === chatId)!.app_ids).toEqual([world.app.app_id]);
      // Removing a bot that is not there is refused and changes nothing.
      const again = await request(`${sim.url}/_control/chats/${chatId}/members`, { method: 'DELETE', body: { app_ids: [other.app_id] } });
      expect(again.status).toBe(400);
    });

    it('tells the bot when a user opens the DM with it', async () => {
      const listener = await listen();
      const entered = await control.post<{ chat_id: string; deliveries: Array<{ app_id: string; event_id: string }> }>('/p2p/enter', {
        app_id: world.app.app_id,
        user_id: world.userId,
      });
      const { chat_id: p2p } = await control.get<{ chat_id: string }>(`/p2p?app_id=${world.app.app_id}&user_id=${world.userId}`);
      expect(entered.chat_id).toBe(p2p);
      const event = await waitFor(() => eventsOf(listener, 'im.chat.access_event.bot_p2p_chat_entered_v1')[0], { what: 'the entered event' });
      const { open_id: openId } = await control.get<{ open_id: string }>(`/apps/${world.app.app_id}/open-id?user_id=${world.userId}`);
      expect(event.header.event_id).toBe(entered.deliveries[0].event_id);
      expect(event.event).toEqual({ chat_id: p2p, operator_id: expect.objectContaining({ open_id: openId }) });
      // Later visits name the last message.
      const { message_id: last } = await control.post<{ message_id: string }>('/messages', { user_id: world.userId, app_id: world.app.app_id, text: 'hi' });
      await control.post('/p2p/enter', { app_id: world.app.app_id, user_id: world.userId });
      const next = await waitFor(() => eventsOf(listener, 'im.chat.access_event.bot_p2p_chat_entered_v1')[1], { what: 'the second entered event' });
      expect(next.event).toEqual(expect.objectContaining({ last_message_id: last }));
    });
  });
});
