import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './server';
import { controlClient, groupChat, RawEventClient, request, seedTeamChat, tenantToken, waitFor, type Control, type World } from './test-support';

type Item = {
  message_id: string;
  root_id?: string;
  parent_id?: string;
  thread_id?: string;
  msg_type: string;
  create_time: string;
  update_time: string;
  deleted: boolean;
  updated: boolean;
  chat_id: string;
  sender: { id: string; id_type: string; sender_type: string; tenant_key: string };
  body: { content: string };
  mentions?: Array<{ key: string; id: string; id_type: string; name: string; tenant_key: string }>;
  upper_message_id?: string;
};
type ListBody = { code: number; msg: string; data?: { items: Item[]; has_more: boolean; page_token?: string } };
type GetBody = { code: number; msg: string; data?: { items: Item[] } };

describe('message history', () => {
  let sim: Simulator;
  let control: Control;
  let world: World;
  let token: string;
  let chatId: string;

  const api = <T>(path: string, init: { method?: string; body?: unknown; token?: string } = {}) =>
    request<T>(`${sim.url}/open-apis${path}`, { method: init.method, body: init.body, headers: { authorization: `Bearer ${init.token ?? token}` } });
  const list = (query: Record<string, string | number>, t?: string) =>
    api<ListBody>(`/im/v1/messages?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString()}`, { token: t });
  const get = (messageId: string, t?: string, query = '') => api<GetBody>(`/im/v1/messages/${messageId}${query}`, { token: t });
  const say = (text: string, extra: Record<string, unknown> = {}) =>
    control.post<{ message_id: string }>('/messages', { user_id: world.userId, chat_id: chatId, text, ...extra });
  const botSays = async (msgType: string, content: unknown) => {
    const res = await api<{ code: number; data: { message_id: string } }>('/im/v1/messages?receive_id_type=chat_id', {
      body: { receive_id: chatId, msg_type: msgType, content: JSON.stringify(content) },
    });
    expect(res.body.code).toBe(0);
    return res.body.data.message_id;
  };
  const openId = async (userId: string) => (await control.get<{ open_id: string }>(`/apps/${world.app.app_id}/open-id?user_id=${userId}`)).open_id;

  beforeAll(async () => {
    sim = await startSimulator({ rateLimitPerSecond: 1000, chatRateLimitPerSecond: 1000 });
    control = controlClient(sim.url);
  });
  afterAll(() => sim.close());
  beforeEach(async () => {
    ({ world, token, chatId } = await seedTeamChat(sim.url, control));
  });

  it('gets one message in Lark’s shape: user senders by open_id, bots by app_id, mentions, quotes', async () => {
    const { message_id: question } = await say('hi @{app:' + world.app.app_id + '}');
    const answer = await botSays('text', { text: 'hello' });
    const { message_id: quote } = await say('about that', { reply_to: answer });

    const asked = await get(question);
    expect(asked.body.code).toBe(0);
    expect(asked.body.data!.items).toEqual([
      {
        message_id: question,
        msg_type: 'text',
        create_time: expect.stringMatching(/^\d{13}$/),
        update_time: expect.stringMatching(/^\d{13}$/),
        deleted: false,
        updated: false,
        chat_id: chatId,
        sender: { id: await openId(world.userId), id_type: 'open_id', sender_type: 'user', tenant_key: world.tenantKey },
        body: { content: JSON.stringify({ text: 'hi @_user_1' }) },
        mentions: [{ key: '@_user_1', id: expect.stringMatching(/^ou_/), id_type: 'open_id', name: 'Helper', tenant_key: world.tenantKey }],
      },
    ]);
    const answered = (await get(answer)).body.data!.items[0];
    expect(answered.sender).toEqual({ id: world.app.app_id, id_type: 'app_id', sender_type: 'app', tenant_key: world.tenantKey });
    const quoted = (await get(quote)).body.data!.items[0];
    expect([quoted.parent_id, quoted.root_id, quoted.thread_id]).toEqual([answer, answer, undefined]);

    const users = await control.get<{ users: Array<{ id: string; union_id: string; user_id: string }> }>('/state');
    const me = users.users.find((u) => u.id === world.userId)!;
    expect((await get(question, undefined, '?user_id_type=union_id')).body.data!.items[0].sender).toEqual(expect.objectContaining({ id: me.union_id, id_type: 'union_id' }));
    expect((await get(question, undefined, '?user_id_type=user_id')).body.data!.items[0].sender.id).toBe(me.user_id);
    expect((await get(question, undefined, '?user_id_type=email')).body.code).toBe(99992402);
  });

  it('shows cards by their readable parts and posts without the locale wrapper', async () => {
    const card = await botSays('interactive', {
      schema: '2.0',
      header: { title: { tag: 'plain_text', content: 'Report' } },
      body: { elements: [{ tag: 'markdown', content: '**Done**' }, { tag: 'hr' }, { tag: 'button', text: { tag: 'plain_text', content: 'Open' }, behaviors: [{ type: 'open_url', default_url: 'https://x.test' }] }] },
    });
    const item = (await get(card)).body.data!.items[0];
    expect(JSON.parse(item.body.content)).toEqual({ title: 'Report', elements: [[{ tag: 'text', text: '**Done**' }], [{ tag: 'hr' }], [{ tag: 'button', text: 'Open' }]] });
    const post = await botSays('post', { en_us: { title: 'Plan', content: [[{ tag: 'text', text: 'step one' }]] } });
    expect(JSON.parse((await get(post)).body.data!.items[0].body.content)).toEqual({ title: 'Plan', content: [[{ tag: 'text', text: 'step one' }]] });
  });

  it('refuses unknown messages and chats the bot is not in', async () => {
    expect((await get('om_nope')).body.code).toBe(230001);
    const other = await control.post<{ app_id: string; app_secret: string }>('/apps', { tenant_key: world.tenantKey, name: 'Outsider' });
    const outsider = await tenantToken(sim.url, other);
    const { message_id: m } = await say('private');
    const res = await get(m, outsider);
    expect([res.status, res.body.code]).toEqual([400, 230002]);
    expect((await list({ container_id_type: 'chat', container_id: chatId }, outsider)).body.code).toBe(230002);
  });

  it('pages a chat’s history both ways, keeps thread replies in their thread, and bounds by time in seconds', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await say(`m${i}`)).message_id);
    const { message_id: inThread } = await say('in the thread', { root_id: ids[1] });
    const collect = async (query: Record<string, string | number>) => {
      const pages: string[][] = [];
      let pageToken: string | undefined;
      do {
        const res = await list({ ...query, ...(pageToken ? { page_token: pageToken } : {}) });
        expect(res.body.code).toBe(0);
        pages.push(res.body.data!.items.map((i) => i.message_id));
        pageToken = res.body.data!.page_token;
        expect(Boolean(pageToken)).toBe(res.body.data!.has_more);
      } while (pageToken);
      return pages;
    };
    expect(await collect({ container_id_type: 'chat', container_id: chatId, page_size: 3 })).toEqual([ids.slice(0, 3), ids.slice(3, 6), ids.slice(6)]);
    expect(await collect({ container_id_type: 'chat', container_id: chatId, page_size: 3, sort_type: 'ByCreateTimeDesc' })).toEqual([
      ids.slice(4).reverse(),
      ids.slice(1, 4).reverse(),
      [ids[0]],
    ]);
    // Default page size 20: everything at once.
    expect((await collect({ container_id_type: 'chat', container_id: chatId })).flat()).toEqual(ids);

    const thread = (await get(inThread)).body.data!.items[0].thread_id!;
    expect(thread).toMatch(/^omt_/);
    expect((await collect({ container_id_type: 'thread', container_id: thread })).flat()).toEqual([ids[1], inThread]);

    const now = Math.floor(Date.now() / 1000);
    expect((await collect({ container_id_type: 'chat', container_id: chatId, start_time: now + 60 })).flat()).toEqual([]);
    expect((await collect({ container_id_type: 'chat', container_id: chatId, start_time: now - 60, end_time: now + 60 })).flat()).toEqual(ids);
    expect((await collect({ container_id_type: 'chat', container_id: chatId, end_time: now - 3600 })).flat()).toEqual([]);
  });

  it('refuses bad paging and container parameters', async () => {
    await say('one');
    await say('two');
    const base = { container_id_type: 'chat', container_id: chatId };
    for (const [query, code] of [
      [{ ...base, page_size: 0 }, 99992402],
      [{ ...base, page_size: 51 }, 99992402],
      [{ ...base, sort_type: 'ByName' }, 99992402],
      [{ ...base, start_time: '2025-01-01' }, 99992402],
      [{ container_id_type: 'group', container_id: chatId }, 99992402],
      [{ container_id_type: 'chat' }, 99992402],
      [{ container_id_type: 'chat', container_id: 'oc_nope' }, 230001],
      [{ container_id_type: 'thread', container_id: 'omt_nope' }, 230001],
      [{ ...base, page_token: 'garbage' }, 230001],
    ] as const) {
      const res = await list(query as Record<string, string | number>);
      expect([res.status, res.body.code], JSON.stringify(query)).toEqual([400, code]);
    }
    // A page token belongs to the query it came from.
    const first = await list({ ...base, page_size: 1 });
    const reused = await list({ ...base, page_size: 1, sort_type: 'ByCreateTimeDesc', page_token: first.body.data!.page_token! });
    expect(reused.body.code).toBe(230001);
    // A thread takes no time bounds.
    const { message_id: root } = await say('root');
    await say('reply', { root_id: root });
    const thread = (await get(root)).body.data!.items[0].thread_id!;
    expect((await list({ container_id_type: 'thread', container_id: thread, start_time: 1 })).body.code).toBe(230001);
  });

  it('shows recalled messages as deleted with Lark’s placeholder content', async () => {
    const { message_id: gone } = await say('oops @{app:' + world.app.app_id + '}');
    await control.post(`/messages/${gone}/recall`, { user_id: world.userId });
    const item = (await get(gone)).body.data!.items[0];
    expect(item).toEqual(expect.objectContaining({ deleted: true, body: { content: 'This message was recalled' } }));
    expect(item.mentions).toBeUndefined();
    const listed = (await list({ container_id_type: 'chat', container_id: chatId })).body.data!.items;
    expect(listed.map((i) => [i.message_id, i.deleted])).toEqual([[gone, true]]);
  });

  it('forwards messages as one merge_forward: Lark’s event content, the parent and its children on get', async () => {
    const client = await RawEventClient.connect(sim.url, world.app);
    client.autoAck = 200;
    try {
      // Source: a second group of the same user and bot.
      const source = await groupChat(control, world, 'Source');
      const inSource = (body: Record<string, unknown>) => control.post<{ message_id: string }>('/messages', { user_id: world.userId, chat_id: source, ...body });
      const { message_id: a } = await inSource({ text: 'first point' });
      const { message_id: b } = await inSource({ image: { sample: 'photo' } });
      const { message_id: forward } = await control.post<{ message_id: string }>('/messages', {
        user_id: world.userId,
        chat_id: chatId,
        merge_forward: { message_ids: [b, a] },
      });
      const event = await waitFor(
        () => client.events().find((e) => (e.body.event as { message: { message_id: string } }).message.message_id === forward),
        { what: 'the merge_forward event' },
      );
      const message = (event.body.event as { message: { message_type: string; content: string; chat_id: string } }).message;
      expect([message.message_type, message.content, message.chat_id]).toEqual(['merge_forward', 'Merged and Forwarded Message', chatId]);

      const items = (await get(forward)).body.data!.items;
      expect(items.map((i) => [i.msg_type, i.upper_message_id, i.chat_id])).toEqual([
        ['merge_forward', undefined, chatId],
        ['text', forward, source],
        ['image', forward, source],
      ]);
      expect(items[0].body.content).toBe('Merged and Forwarded Message');
      expect(JSON.parse(items[1].body.content)).toEqual({ text: 'first point' });
      // The children are copies with their own ids, and appear in no chat's history.
      expect(items.slice(1).map((i) => i.message_id)).not.toContain(a);
      const child = items[2];
      expect((await get(child.message_id)).body.data!.items.map((i) => i.upper_message_id)).toEqual([forward]);
      expect((await list({ container_id_type: 'chat', container_id: chatId })).body.data!.items.map((i) => i.message_id)).toEqual([forward]);
      expect((await list({ container_id_type: 'chat', container_id: source })).body.data!.items.map((i) => i.message_id)).toEqual([a, b]);

      // Their resources are not served, asked with the child's id or the merge_forward's.
      const key = (JSON.parse(child.body.content) as { image_key: string }).image_key;
      for (const id of [child.message_id, forward]) {
        const res = await fetch(`${sim.url}/open-apis/im/v1/messages/${id}/resources/${key}?type=image`, { headers: { authorization: `Bearer ${token}` } });
        expect([res.status, ((await res.json()) as { code: number }).code]).toEqual([400, 234043]);
      }
      // The original still serves it.
      expect((await fetch(`${sim.url}/open-apis/im/v1/messages/${b}/resources/${key}?type=image`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

      const view = await control.get<{ messages: Array<{ message_id: string; content: unknown; forwarded: Array<{ upper_message_id: string; msg_type: string }> }> }>(
        `/chats/${chatId}/messages`,
      );
      expect(view.messages[0].content).toBe('Merged and Forwarded Message');
      expect(view.messages[0].forwarded.map((f) => [f.msg_type, f.upper_message_id])).toEqual([
        ['text', forward],
        ['image', forward],
      ]);
    } finally {
      client.close();
    }
  });

  it('refuses merge_forwards of unknown, recalled, mixed-chat or unseen messages', async () => {
    const { message_id: here } = await say('here');
    const { message_id: recalled } = await say('gone');
    await control.post(`/messages/${recalled}/recall`, { user_id: world.userId });
    const elsewhere = await control.post<{ chat_id: string }>('/chats', { tenant_key: world.tenantKey, name: 'Elsewhere', user_ids: [world.userId], app_ids: [] });
    const { message_id: there } = await control.post<{ message_id: string }>('/messages', { user_id: world.userId, chat_id: elsewhere.chat_id, text: 'there' });
    const stranger = await control.post<{ id: string }>('/users', { tenant_key: world.tenantKey, name: 'Stranger' });
    await control.post(`/chats/${chatId}/members`, { user_ids: [stranger.id] });
    const forward = (ids: string[], userId = world.userId) =>
      request<{ error: { code: string } }>(`${sim.url}/_control/messages`, { body: { user_id: userId, chat_id: chatId, merge_forward: { message_ids: ids } } });
    expect((await forward(['om_nope'])).status).toBe(404);
    expect((await forward([recalled])).status).toBe(400);
    expect((await forward([here, there])).status).toBe(400);
    expect((await forward([here, here])).status).toBe(400);
    expect((await forward([there], stranger.id)).status).toBe(400);
    expect((await list({ container_id_type: 'chat', container_id: chatId })).body.data!.items.map((i) => i.message_id)).toEqual([here, recalled]);
  });
});
