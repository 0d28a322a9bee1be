import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './server';
import { controlClient, RawEventClient, request, tenantToken, waitFor, type Control } from './test-support';

type Ids = { open_id: string; union_id: string; user_id: string };
type ReceiveEvent = {
  header: { event_id: string; app_id: string; tenant_key: string; event_type: string };
  event: {
    sender: { sender_id: Ids; sender_type: string };
    message: {
      message_id: string;
      chat_id: string;
      chat_type: string;
      message_type: string;
      content: string;
      root_id?: string;
      thread_id?: string;
      mentions?: Array<{ key: string; id: Ids; name: string }>;
    };
  };
};
type App = { app_id: string; app_secret: string };

describe('control API', () => {
  let sim: Simulator;
  let control: Control;
  const clients: RawEventClient[] = [];

  beforeAll(async () => {
    sim = await startSimulator();
    control = controlClient(sim.url);
  });
  afterAll(() => sim.close());
  beforeEach(() => control.post('/reset'));
  afterEach(() => clients.splice(0).forEach((c) => c.close()));

  const raw = (method: string, path: string, body?: unknown) =>
    request<{ error: { code: string; message: string } }>(`${sim.url}/_control${path}`, { method, body });

  it('answers in-process control requests as it answers them over HTTP, and acts on them the same', async () => {
    const tenant = await sim.controlInProcess('POST', '/tenants', { brand: 'feishu', name: 'Inproc' });
    expect(tenant.status).toBe(200);
    const tenantKey = (tenant.body as { tenant_key: string }).tenant_key;
    const user = (await sim.controlInProcess('POST', '/users', { tenant_key: tenantKey, name: 'Ida' })).body as { id: string };
    // The user made in-process is there over HTTP too.
    const overHttp = await control.get<{ open_id: string }>(`/apps/${(await control.post<{ app_id: string }>('/apps', { tenant_key: tenantKey, name: 'Bot' })).app_id}/open-id?user_id=${user.id}`);
    expect(overHttp.open_id).toMatch(/^ou_/);
    const bad = await sim.controlInProcess('POST', '/messages', { user_id: user.id, text: 'no target' });
    const badOverHttp = await raw('POST', '/messages', { user_id: user.id, text: 'no target' });
    expect(bad).toEqual({ status: badOverHttp.status, body: badOverHttp.body });
    expect((await sim.controlInProcess('GET', '/nowhere')).status).toBe(404);
  });

  it('rejects bad input with {error:{code,message}} and changes nothing', async () => {
    const tenant = await control.post<{ tenant_key: string }>('/tenants', { brand: 'feishu', name: 'Acme' });
    const user = await control.post<{ id: string }>('/users', { tenant_key: tenant.tenant_key, name: 'Ada' });
    const app = await control.post<{ app_id: string }>('/apps', { tenant_key: tenant.tenant_key, name: 'Helper' });
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/tenants', { brand: 'slack', name: 'x' }, 400, 'invalid_request'],
      ['POST', '/tenants', { brand: 'lark' }, 400, 'invalid_request'],
      ['POST', '/users', { tenant_key: 'nope', name: 'x' }, 404, 'not_found'],
      ['POST', '/apps', { tenant_key: tenant.tenant_key, name: '' }, 400, 'invalid_request'],
      ['POST', '/chats', { tenant_key: tenant.tenant_key, name: 'g', user_ids: ['usr_missing'] }, 404, 'not_found'],
      ['POST', '/messages', { user_id: user.id, text: 'no target' }, 400, 'invalid_request'],
      ['POST', '/messages', { user_id: user.id, app_id: 'cli_0000000000000000', text: 'x' }, 404, 'not_found'],
      ['POST', '/messages', { user_id: user.id, app_id: app.app_id, text: '@{user:usr_missing} x' }, 404, 'not_found'],
      ['POST', '/messages', { user_id: user.id, app_id: app.app_id, text: 'x', root_id: 'om_missing' }, 400, 'invalid_request'],
      ['POST', '/faults', { kind: 'meteor_strike' }, 400, 'invalid_request'],
      ['POST', '/faults', { kind: 'chunk_events', chunk_bytes: 0 }, 400, 'invalid_request'],
      ['POST', '/faults', { kind: 'expire_tokens', app_id: 'cli_0000000000000000' }, 404, 'not_found'],
      ['POST', '/registrations/ABCD-EFGH/approve', { user_id: user.id }, 404, 'not_found'],
      ['GET', '/apps/cli_0000000000000000', undefined, 404, 'not_found'],
      ['GET', '/nowhere', undefined, 404, 'not_found'],
      ['DELETE', '/tenants', undefined, 405, 'invalid_request'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await raw(method, path, body);
      expect([res.status, res.body.error.code], `${method} ${path} ${JSON.stringify(body)}`).toEqual([status, code]);
      expect(res.body.error.message).toEqual(expect.any(String));
    }
    const notJson = await request<{ error: { code: string } }>(`${sim.url}/_control/tenants`, { body: '{oops' });
    expect([notJson.status, notJson.body.error.code]).toEqual([400, 'invalid_request']);
    const state = await control.get<{ tenants: unknown[]; users: unknown[]; apps: unknown[]; chats: unknown[] }>('/state');
    expect([state.tenants.length, state.users.length, state.apps.length, state.chats.length]).toEqual([1, 1, 1, 0]);
  });

  describe('a group with two bots', () => {
    let tenantKey: string;
    let ada: { id: string; union_id: string };
    let bob: { id: string; union_id: string };
    let alpha: App;
    let beta: App;
    let chatId: string;

    beforeEach(async () => {
      ({ tenant_key: tenantKey } = await control.post<{ tenant_key: string }>('/tenants', { brand: 'lark', name: 'Acme' }));
      ada = await control.post('/users', { tenant_key: tenantKey, name: 'Ada' });
      bob = await control.post('/users', { tenant_key: tenantKey, name: 'Bob' });
      alpha = await control.post<App>('/apps', { tenant_key: tenantKey, name: 'Alpha' });
      beta = await control.post<App>('/apps', { tenant_key: tenantKey, name: 'Beta' });
      ({ chat_id: chatId } = await control.post<{ chat_id: string }>('/chats', {
        tenant_key: tenantKey,
        name: 'Team',
        user_ids: [ada.id],
        app_ids: [alpha.app_id],
      }));
      await control.post(`/chats/${chatId}/members`, { user_ids: [bob.id], app_ids: [beta.app_id] });
    });

    const listen = async (app: App) => {
      const client = await RawEventClient.connect(`${sim.url}/lark`, app);
      client.autoAck = 200;
      clients.push(client);
      return client;
    };
    // Beta joined with the members call: its first event is its im.chat.member.bot.added_v1.
    const firstEvent = async (client: RawEventClient) =>
      (
        await waitFor(() => client.events().find((e) => (e.body as unknown as ReceiveEvent).header.event_type === 'im.message.receive_v1'), {
          what: 'a message event',
        })
      ).body as unknown as ReceiveEvent;

    it('tells the bot that joined by the members call, naming the operator, and only that bot', async () => {
      const [toAlpha, toBeta] = [await listen(alpha), await listen(beta)];
      const joined = (await waitFor(() => toBeta.events()[0], { what: 'the join event' })).body as {
        header: { event_type: string; app_id: string };
        event: { chat_id: string; name: string; operator_id: Ids; external: boolean };
      };
      expect(joined.header).toEqual(expect.objectContaining({ event_type: 'im.chat.member.bot.added_v1', app_id: beta.app_id }));
      expect(joined.event).toEqual(expect.objectContaining({ chat_id: chatId, name: 'Team', external: false }));
      // The operator defaults to the chat's first user, with ids scoped to the receiving bot.
      expect(joined.event.operator_id.union_id).toBe(ada.union_id);
      expect(joined.event.operator_id.open_id).toBe(
        (await control.get<{ open_id: string }>(`/apps/${beta.app_id}/open-id?user_id=${ada.id}`)).open_id,
      );
      await new Promise((r) => setTimeout(r, 100));
      expect(toAlpha.events()).toEqual([]);
    });

    it('delivers to every bot with ids scoped to each, and a bot mention matches on union_id only', async () => {
      const [toAlpha, toBeta] = [await listen(alpha), await listen(beta)];
      const sent = await control.post<{ message_id: string; deliveries: Array<{ app_id: string; event_id: string }> }>(
        '/messages',
        { user_id: ada.id, chat_id: chatId, text: `@{app:${alpha.app_id}} ping @{user:${bob.id}} and @{app:${alpha.app_id}}` },
      );
      expect(sent.deliveries.map((d) => d.app_id).sort()).toEqual([alpha.app_id, beta.app_id].sort());
      const [a, b] = [await firstEvent(toAlpha), await firstEvent(toBeta)];

      expect(a.event.message.message_id).toBe(sent.message_id);
      expect(b.event.message.message_id).toBe(sent.message_id);
      expect(a.header.event_id).not.toBe(b.header.event_id);
      expect(a.header).toEqual(expect.objectContaining({ app_id: alpha.app_id, tenant_key: tenantKey, event_type: 'im.message.receive_v1' }));
      expect(a.event.message.chat_type).toBe('group');
      expect(JSON.parse(a.event.message.content)).toEqual({ text: '@_user_1 ping @_user_2 and @_user_1' });

      // The sender: same union_id everywhere, a different open_id per app.
      expect(a.event.sender.sender_id.union_id).toBe(ada.union_id);
      expect(b.event.sender.sender_id.union_id).toBe(ada.union_id);
      expect(a.event.sender.sender_id.open_id).not.toBe(b.event.sender.sender_id.open_id);
      expect(a.event.sender.sender_id.open_id).toBe(
        (await control.get<{ open_id: string }>(`/apps/${alpha.app_id}/open-id?user_id=${ada.id}`)).open_id,
      );

      // The mention of Alpha as Alpha receives it: union_id matches bot info's identity, open_id does not.
      const alphaInfo = await control.get<{ bot_open_id: string; bot_union_id: string }>(`/apps/${alpha.app_id}`);
      const selfMention = a.event.message.mentions!.find((m) => m.key === '@_user_1')!;
      expect(selfMention.name).toBe('Alpha');
      expect(selfMention.id.union_id).toBe(alphaInfo.bot_union_id);
      expect(selfMention.id.open_id).not.toBe(alphaInfo.bot_open_id);
      const token = await tenantToken(`${sim.url}/lark`, alpha);
      const info = await request<{ bot: { open_id: string } }>(`${sim.url}/lark/open-apis/bot/v3/info`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(info.body.bot.open_id).toBe(alphaInfo.bot_open_id);
      expect(a.event.message.mentions!.find((m) => m.key === '@_user_2')!.id.union_id).toBe(bob.union_id);

      // contact/v3/users on the bot's own open_id reveals its union_id; deny_contact_scope refuses.
      const contact = (openId: string) =>
        request<{ code: number; data?: { user: { union_id: string } } }>(
          `${sim.url}/lark/open-apis/contact/v3/users/${openId}?user_id_type=open_id`,
          { headers: { authorization: `Bearer ${token}` } },
        );
      expect((await contact(info.body.bot.open_id)).body.data?.user.union_id).toBe(alphaInfo.bot_union_id);
      expect((await contact(a.event.sender.sender_id.open_id)).body.data?.user.union_id).toBe(ada.union_id);
      expect((await contact(b.event.sender.sender_id.open_id)).body.code).toBe(99992361);
      await control.post('/faults', { kind: 'deny_contact_scope', app_id: alpha.app_id });
      expect((await contact(info.body.bot.open_id)).body.code).toBe(99991672);
    });

    it('threads replies under root_id and shows bot replies in the transcript', async () => {
      const toAlpha = await listen(alpha);
      const root = await control.post<{ message_id: string }>('/messages', { user_id: ada.id, chat_id: chatId, text: 'root' });
      const token = await tenantToken(`${sim.url}/lark`, alpha);
      const reply = await request<{ data: { message_id: string; thread_id: string } }>(
        `${sim.url}/lark/open-apis/im/v1/messages/${root.message_id}/reply`,
        { headers: { authorization: `Bearer ${token}` }, body: { msg_type: 'text', content: '{"text":"on it"}', reply_in_thread: true } },
      );
      const followUp = await control.post<{ message_id: string }>('/messages', {
        user_id: bob.id,
        chat_id: chatId,
        text: 'thanks',
        root_id: reply.body.data.message_id,
      });
      const events = await waitFor(() => (toAlpha.events().length === 2 ? toAlpha.events() : undefined));
      const followEvent = events[1].body as unknown as ReceiveEvent;
      expect(followEvent.event.message.message_id).toBe(followUp.message_id);
      expect(followEvent.event.message.root_id).toBe(root.message_id);
      expect(followEvent.event.message.thread_id).toBe(reply.body.data.thread_id);

      const { messages } = await control.get<{
        messages: Array<{ message_id: string; sender: { type: string; name: string }; thread_id: string | null; root_id: string | null }>;
      }>(`/chats/${chatId}/messages`);
      expect(messages.map((m) => [m.sender.type, m.sender.name, m.root_id, m.thread_id])).toEqual([
        ['user', 'Ada', null, reply.body.data.thread_id],
        ['app', 'Alpha', root.message_id, reply.body.data.thread_id],
        ['user', 'Bob', root.message_id, reply.body.data.thread_id],
      ]);
    });

    it('sends posts in the received form with at elements as placeholders', async () => {
      const toBeta = await listen(beta);
      await control.post('/messages', {
        user_id: ada.id,
        chat_id: chatId,
        post: { title: 'Plan', content: [[{ tag: 'at', app_id: beta.app_id }, { tag: 'text', text: ' see this' }]] },
      });
      const event = await firstEvent(toBeta);
      expect(event.event.message.message_type).toBe('post');
      expect(JSON.parse(event.event.message.content)).toEqual({
        title: 'Plan',
        content: [[{ tag: 'at', user_id: '@_user_1', user_name: 'Beta' }, { tag: 'text', text: ' see this' }]],
      });
      expect(event.event.message.mentions).toEqual([
        expect.objectContaining({ key: '@_user_1', name: 'Beta', id: expect.objectContaining({ user_id: '' }) }),
      ]);
    });

    it('keeps a user out of chats they are not in and bots out of mentions when absent', async () => {
      const carol = await control.post<{ id: string }>('/users', { tenant_key: tenantKey, name: 'Carol' });
      expect((await raw('POST', '/messages', { user_id: carol.id, chat_id: chatId, text: 'hi' })).status).toBe(400);
      const gamma = await control.post<App>('/apps', { tenant_key: tenantKey, name: 'Gamma' });
      const res = await raw('POST', '/messages', { user_id: ada.id, chat_id: chatId, text: `@{app:${gamma.app_id}} hi` });
      expect(res.status).toBe(400);
      const { messages } = await control.get<{ messages: unknown[] }>(`/chats/${chatId}/messages`);
      expect(messages).toEqual([]);
    });
  });
});
