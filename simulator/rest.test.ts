import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './server';
import { controlClient, request, seedTeamChat, seedWorld, tenantToken, type Control, type World } from './test-support';

type LarkBody = { code: number; msg: string; data?: { message_id: string; chat_id: string; thread_id?: string; root_id?: string } };

describe('open platform REST', () => {
  let sim: Simulator;
  let control: Control;
  let world: World;
  let token: string;
  let chatId: string;

  const api = (path: string, init: { method?: string; body?: unknown; token?: string | null; root?: string } = {}) =>
    request<LarkBody>(`${init.root ?? sim.url}/open-apis${path}`, {
      method: init.method,
      body: init.body,
      headers: init.token === null ? {} : { authorization: `Bearer ${init.token ?? token}` },
    });
  const sendText = (receiveIdType: string, receiveId: string, text: string, extra: Record<string, unknown> = {}) =>
    api(`/im/v1/messages?receive_id_type=${receiveIdType}`, {
      body: { receive_id: receiveId, msg_type: 'text', content: JSON.stringify({ text }), ...extra },
    });

  beforeAll(async () => {
    sim = await startSimulator({ rateLimitPerSecond: 1000, chatRateLimitPerSecond: 1000 });
    control = controlClient(sim.url);
  });
  afterAll(() => sim.close());
  beforeEach(async () => {
    ({ world, token, chatId } = await seedTeamChat(sim.url, control));
  });

  describe('tokens', () => {
    it('issues tenant tokens with a top-level expire and rejects bad credentials like Lark', async () => {
      const ok = await request<Record<string, unknown>>(`${sim.url}/open-apis/auth/v3/tenant_access_token/internal`, {
        body: { app_id: world.app.app_id, app_secret: world.app.app_secret },
      });
      expect(ok.body).toEqual({ code: 0, msg: 'ok', tenant_access_token: expect.stringMatching(/^t-/), expire: expect.any(Number) });

      const wrongSecret = await request<LarkBody>(`${sim.url}/open-apis/auth/v3/tenant_access_token/internal`, {
        body: { app_id: world.app.app_id, app_secret: 'nope' },
      });
      expect([wrongSecret.status, wrongSecret.body.code]).toEqual([400, 10014]);
      // An app belongs to one brand: the lark host does not know a feishu app.
      const otherBrand = await request<LarkBody>(`${sim.url}/lark/open-apis/auth/v3/tenant_access_token/internal`, {
        body: { app_id: world.app.app_id, app_secret: world.app.app_secret },
      });
      expect([otherBrand.status, otherBrand.body.code]).toEqual([400, 10003]);
    });

    it('answers 99991661 without a token, 99991671 for a malformed one, 99991663 for an unknown one', async () => {
      expect((await api('/bot/v3/info', { token: null })).body.code).toBe(99991661);
      expect((await api('/bot/v3/info', { token: 'garbage' })).body.code).toBe(99991671);
      expect((await api('/bot/v3/info', { token: 't-0000' })).body.code).toBe(99991663);
      // A feishu token is not valid on the lark host either.
      expect((await api('/bot/v3/info', { root: `${sim.url}/lark` })).body.code).toBe(99991663);
      expect((await api('/bot/v3/info', { root: `${sim.url}/feishu` })).body.code).toBe(0);
    });

    it('expires tokens after their lifetime', async () => {
      const shortLived = await startSimulator({ tokenTtlSeconds: 1 });
      try {
        const w = await seedWorld(controlClient(shortLived.url));
        const t = await tenantToken(shortLived.url, w.app);
        const info = (bearer: string) =>
          request<LarkBody>(`${shortLived.url}/open-apis/bot/v3/info`, { headers: { authorization: `Bearer ${bearer}` } });
        await new Promise((r) => setTimeout(r, 1100));
        const expired = await info(t);
        expect([expired.status, expired.body.code]).toEqual([400, 99991663]);
        const fresh = await tenantToken(shortLived.url, w.app);
        expect(fresh).not.toBe(t);
        expect((await info(fresh)).body.code).toBe(0);
      } finally {
        await shortLived.close();
      }
    });

    it('invalidates live tokens with the expire_tokens fault', async () => {
      await control.post('/faults', { kind: 'expire_tokens', app_id: world.app.app_id });
      expect((await api('/bot/v3/info')).body.code).toBe(99991663);
    });
  });

  describe('sending', () => {
    it('sends to a chat, to a user by open_id and by union_id', async () => {
      const toChat = await sendText('chat_id', chatId, 'hi team');
      expect(toChat.body.code).toBe(0);
      expect(toChat.body.data?.chat_id).toBe(chatId);

      const { open_id: openId } = await control.get<{ open_id: string }>(`/apps/${world.app.app_id}/open-id?user_id=${world.userId}`);
      const byOpenId = await sendText('open_id', openId, 'hi Ada');
      const users = (await control.get<{ users: Array<{ id: string; union_id: string }> }>('/state')).users;
      const byUnionId = await sendText('union_id', users[0].union_id, 'hi again');
      const { chat_id: p2p } = await control.get<{ chat_id: string }>(`/p2p?app_id=${world.app.app_id}&user_id=${world.userId}`);
      expect([byOpenId.body.data?.chat_id, byUnionId.body.data?.chat_id]).toEqual([p2p, p2p]);
      const { messages } = await control.get<{ messages: Array<{ content: unknown }> }>(`/chats/${p2p}/messages`);
      expect(messages.map((m) => m.content)).toEqual([{ text: 'hi Ada' }, { text: 'hi again' }]);
    });

    it('sends once per uuid and returns the first message again', async () => {
      const first = await sendText('chat_id', chatId, 'only once', { uuid: 'outbox-42' });
      const second = await sendText('chat_id', chatId, 'only once', { uuid: 'outbox-42' });
      expect(first.body.code).toBe(0);
      expect(second.body.data?.message_id).toBe(first.body.data?.message_id);
      const { messages } = await control.get<{ messages: unknown[] }>(`/chats/${chatId}/messages`);
      expect(messages).toHaveLength(1);
      const tooLong = await sendText('chat_id', chatId, 'x', { uuid: 'u'.repeat(51) });
      expect(tooLong.body.code).toBe(99992402);
    });

    it('answers 230002 when the bot is not in the chat', async () => {
      const { chat_id: elsewhere } = await control.post<{ chat_id: string }>('/chats', {
        tenant_key: world.tenantKey,
        name: 'No bots',
        user_ids: [world.userId],
      });
      const res = await sendText('chat_id', elsewhere, 'hello?');
      expect([res.status, res.body.code]).toEqual([400, 230002]);
    });

    it('rejects another app’s open_id with 99992361', async () => {
      const other = await control.post<{ app_id: string }>('/apps', { tenant_key: world.tenantKey, name: 'Other' });
      const { open_id: foreign } = await control.get<{ open_id: string }>(`/apps/${other.app_id}/open-id?user_id=${world.userId}`);
      expect((await sendText('open_id', foreign, 'hi')).body.code).toBe(99992361);
    });

    it('validates msg_type, content and the receive_id_type', async () => {
      const send = (query: string, body: unknown) => api(`/im/v1/messages${query}`, { body });
      expect((await send('', { receive_id: chatId, msg_type: 'text', content: '{"text":"x"}' })).body.code).toBe(99992402);
      const cases: Array<[unknown, number]> = [
        [{ receive_id: chatId, msg_type: 'image', content: '{"image_key":"x"}' }, 230001],
        [{ receive_id: chatId, msg_type: 'text', content: 'not json' }, 230001],
        [{ receive_id: chatId, msg_type: 'text', content: { text: 'not a string' } }, 99992402],
        [{ receive_id: chatId, msg_type: 'text', content: '{"title":"no text"}' }, 230001],
        [{ receive_id: chatId, msg_type: 'post', content: '{"title":"no locale","content":[]}' }, 230001],
        [{ receive_id: chatId, msg_type: 'interactive', content: '{"schema":"2.0","body":{"elements":[{"tag":"note"}]}}' }, 230099],
        [{ receive_id: 'oc_missing', msg_type: 'text', content: '{"text":"x"}' }, 230001],
      ];
      for (const [body, code] of cases) {
        const res = await send('?receive_id_type=chat_id', body);
        expect([res.status, res.body.code], JSON.stringify(body)).toEqual([400, code]);
      }
      const post = await send('?receive_id_type=chat_id', {
        receive_id: chatId,
        msg_type: 'post',
        content: JSON.stringify({ zh_cn: { title: 'T', content: [[{ tag: 'text', text: 'hi' }, { tag: 'a', href: 'https://x', text: 'x' }]] } }),
      });
      expect(post.body.code).toBe(0);
    });

    it('answers 230025 past 150 KB of text and 30 KB of card', async () => {
      expect((await sendText('chat_id', chatId, 'x'.repeat(140 * 1024))).body.code).toBe(0);
      expect((await sendText('chat_id', chatId, 'x'.repeat(151 * 1024))).body.code).toBe(230025);
      const bigCard = { schema: '2.0', body: { elements: [{ tag: 'markdown', content: 'x'.repeat(31 * 1024) }] } };
      const res = await api('/im/v1/messages?receive_id_type=chat_id', {
        body: { receive_id: chatId, msg_type: 'interactive', content: JSON.stringify(bigCard) },
      });
      expect(res.body.code).toBe(230025);
    });

    it('replies in a thread and keeps later replies in it', async () => {
      const user = await control.post<{ message_id: string }>('/messages', { user_id: world.userId, chat_id: chatId, text: 'question' });
      const reply = (target: string, body: Record<string, unknown>) =>
        api(`/im/v1/messages/${target}/reply`, { body: { msg_type: 'text', content: '{"text":"answer"}', ...body } });
      const quoted = await reply(user.message_id, {});
      expect(quoted.body.data?.root_id).toBe(user.message_id);
      expect(quoted.body.data?.thread_id).toBeUndefined();
      const threaded = await reply(user.message_id, { reply_in_thread: true });
      expect(threaded.body.data?.thread_id).toMatch(/^omt_/);
      const again = await reply(threaded.body.data!.message_id, {});
      expect(again.body.data?.thread_id).toBe(threaded.body.data?.thread_id);
      expect(again.body.data?.root_id).toBe(user.message_id);
      expect((await reply('om_missing', {})).body.code).toBe(230001);
    });
  });

  describe('limits and faults', () => {
    it('rate-limits an app with 99991400, HTTP 429 and x-ogw-ratelimit-reset', async () => {
      const limited = await startSimulator({ rateLimitPerSecond: 3 });
      try {
        const ctl = controlClient(limited.url);
        const w = await seedWorld(ctl);
        const t = await tenantToken(limited.url, w.app);
        const call = () => request<LarkBody>(`${limited.url}/open-apis/bot/v3/info`, { headers: { authorization: `Bearer ${t}` } });
        // Twenty concurrent calls land in at most two one-second windows of three calls each.
        const results = await Promise.all(Array.from({ length: 20 }, call));
        const refused = results.filter((r) => r.status === 429);
        expect(refused.length).toBeGreaterThanOrEqual(14);
        for (const r of refused) {
          expect(r.body.code).toBe(99991400);
          expect(Number(r.headers.get('x-ogw-ratelimit-reset'))).toBeGreaterThanOrEqual(1);
        }
      } finally {
        await limited.close();
      }
    });

    it('limits messages into one chat to the chat rate (230020), shared by all bots', async () => {
      const limited = await startSimulator({ chatRateLimitPerSecond: 2 });
      try {
        const ctl = controlClient(limited.url);
        const w = await seedWorld(ctl);
        const second = await ctl.post<{ app_id: string; app_secret: string }>('/apps', { tenant_key: w.tenantKey, name: 'Second' });
        const { chat_id } = await ctl.post<{ chat_id: string }>('/chats', {
          tenant_key: w.tenantKey,
          name: 'Busy',
          user_ids: [w.userId],
          app_ids: [w.app.app_id, second.app_id],
        });
        const tokens = [await tenantToken(limited.url, w.app), await tenantToken(limited.url, second)];
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            request<LarkBody>(`${limited.url}/open-apis/im/v1/messages?receive_id_type=chat_id`, {
              headers: { authorization: `Bearer ${tokens[i % 2]}` },
              body: { receive_id: chat_id, msg_type: 'text', content: '{"text":"spam"}' },
            }),
          ),
        );
        const codes = results.map((r) => r.body.code);
        // Two bots, ten concurrent sends, at most two windows of two: the limit is the chat's, not each bot's.
        expect(codes.filter((c) => c === 230020).length).toBeGreaterThanOrEqual(6);
        expect(codes.every((c) => c === 0 || c === 230020)).toBe(true);
      } finally {
        await limited.close();
      }
    });

    it('injects rest_error and rest_delay on matching paths, count times', async () => {
      await control.post('/faults', { kind: 'rest_error', path: '/im/v1/messages', code: 230020, http_status: 400, count: 1 });
      expect((await sendText('chat_id', chatId, 'a')).body.code).toBe(230020);
      expect((await sendText('chat_id', chatId, 'b')).body.code).toBe(0);
      await control.post('/faults', { kind: 'rest_error', path: '/^\\/open-apis\\/bot/', code: 99991400, http_status: 429, count: -1 });
      expect((await api('/bot/v3/info')).status).toBe(429);
      expect((await api('/bot/v3/info')).status).toBe(429);
      await control.del('/faults');
      await control.post('/faults', { kind: 'rest_delay', path: 'bot/v3', ms: 300 });
      const started = Date.now();
      expect((await api('/bot/v3/info')).body.code).toBe(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    });
  });
});
