import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { capturingLogger } from '../test-support/fake-lark-ws';
import { jsonBody, startFakeHttp, type FakeHttp, type RecordedRequest, type ScriptedReply } from '../test-support/fake-http';
import { bindingPromptCard } from '../outbound/render';
import { decideRetry } from '../outbound/retry-policy';
import { LarkApiError, LarkNetworkError, LarkPermissionError, LarkRateLimitError, LarkRequestError, isRetryableLarkError } from './errors';
import { LarkHttpClient, type LarkHttpClientOptions } from './http-client';
import { TenantTokenCache } from './tenant-token-cache';

const TOKEN_PATH = '/feishu/open-apis/auth/v3/tenant_access_token/internal';
const SECRET = 'app-secret-never-shown';

let fake: FakeHttp;
let tokenCounter: number;
let apiReplies: ((request: RecordedRequest) => ScriptedReply | undefined)[];

function tokenRequests() {
  return fake.requests.filter((r) => r.path === TOKEN_PATH);
}

function apiRequests() {
  return fake.requests.filter((r) => r.path !== TOKEN_PATH);
}

beforeEach(async () => {
  tokenCounter = 0;
  apiReplies = [];
  fake = await startFakeHttp((request) => {
    if (request.path === TOKEN_PATH) {
      tokenCounter += 1;
      return { body: { code: 0, msg: 'ok', tenant_access_token: `t-token-${tokenCounter}`, expire: 7200 } };
    }
    const scripted = apiReplies.shift()?.(request);
    if (scripted) return scripted;
    return { body: { code: 0, msg: 'success', data: { message_id: 'om_sent', chat_id: 'oc_1', msg_type: 'text', create_time: '1700000000000' } } };
  });
});

afterEach(async () => {
  await fake.close();
});

function client(overrides: Partial<LarkHttpClientOptions> = {}) {
  return new LarkHttpClient({
    appId: 'cli_test0000000001',
    appSecret: SECRET,
    region: 'feishu',
    hosts: { openBaseUrl: `${fake.baseUrl}/{region}` },
    tokenCache: new TenantTokenCache(),
    ...overrides,
  });
}

describe('LarkHttpClient messages', () => {
  it('sends text with a double-encoded content, the bearer token and the uuid', async () => {
    const text = 'line 1\nline "2"\t\\ 中文 😀 {"looks":"like json"}';
    const sent = await client().sendText('chat_id', 'oc_123', text, { uuid: 'outbox-1' });
    expect(sent).toMatchObject({ messageId: 'om_sent', chatId: 'oc_1', msgType: 'text', createTime: '1700000000000' });
    const [token] = tokenRequests();
    expect(jsonBody(token)).toEqual({ app_id: 'cli_test0000000001', app_secret: SECRET });
    const [request] = apiRequests();
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/feishu/open-apis/im/v1/messages?receive_id_type=chat_id');
    expect(request.headers.authorization).toBe('Bearer t-token-1');
    const body = jsonBody(request);
    expect(body).toEqual({ receive_id: 'oc_123', msg_type: 'text', content: JSON.stringify({ text }), uuid: 'outbox-1' });
    expect(JSON.parse(body.content as string)).toEqual({ text });
  });

  it('sends a card as interactive content', async () => {
    const card = { schema: '2.0', config: { update_multi: true }, body: { elements: [{ tag: 'markdown', content: '**hi**' }] } };
    const api = client();
    await api.sendCard('open_id', 'ou_1', card);
    const [send] = apiRequests();
    expect(send.path).toBe('/feishu/open-apis/im/v1/messages?receive_id_type=open_id');
    expect(jsonBody(send)).toMatchObject({ receive_id: 'ou_1', msg_type: 'interactive' });
    expect(JSON.parse(jsonBody(send).content as string)).toEqual(card);
  });

  it('replies in a thread', async () => {
    apiReplies.push(() => ({ body: { code: 0, data: { message_id: 'om_reply', chat_id: 'oc_1', root_id: 'om_root', thread_id: 'omt_1' } } }));
    const sent = await client().reply('om_root', { msgType: 'text', content: { text: 'threaded' }, replyInThread: true, uuid: 'u-1' });
    expect(sent).toMatchObject({ messageId: 'om_reply', rootId: 'om_root', threadId: 'omt_1' });
    const [request] = apiRequests();
    expect(request.path).toBe('/feishu/open-apis/im/v1/messages/om_root/reply');
    expect(jsonBody(request)).toEqual({ msg_type: 'text', content: '{"text":"threaded"}', reply_in_thread: true, uuid: 'u-1' });
  });

  it('reads the bot from the top-level `bot` field', async () => {
    apiReplies.push(() => ({ body: { code: 0, msg: 'ok', bot: { open_id: 'ou_bot', app_name: 'Helper', avatar_url: 'https://a', activate_status: 2 } } }));
    expect(await client().getBotInfo()).toEqual({ openId: 'ou_bot', appName: 'Helper', avatarUrl: 'https://a', activateStatus: 2 });
    expect(apiRequests()[0].path).toBe('/feishu/open-apis/bot/v3/info');
  });

  it('reads a user by open_id', async () => {
    apiReplies.push(() => ({ body: { code: 0, data: { user: { open_id: 'ou_x', union_id: 'on_x', user_id: 'ux', name: 'X' } } } }));
    expect(await client().getUser('ou_x')).toEqual({ openId: 'ou_x', unionId: 'on_x', userId: 'ux', name: 'X' });
    expect(apiRequests()[0].path).toBe('/feishu/open-apis/contact/v3/users/ou_x?user_id_type=open_id');
  });

  it('surfaces a missing contact scope as a LarkPermissionError', async () => {
    apiReplies.push(() => ({ status: 400, body: { code: 99991672, msg: 'Access denied. One of the following scopes is required' } }));
    const error = await client().getUser('ou_x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LarkPermissionError);
    expect(error).toMatchObject({ code: 99991672, httpStatus: 400, retryable: false });
  });

  it('uses the lark host for the lark region', async () => {
    const api = client({ region: 'lark' });
    fake.handler = (request) =>
      request.path.endsWith('tenant_access_token/internal')
        ? { body: { code: 0, tenant_access_token: 't-lark', expire: 7200 } }
        : { body: { code: 0, data: { message_id: 'om_l' } } };
    await api.sendText('chat_id', 'oc', 'x');
    expect(fake.requests.map((r) => r.path)).toEqual([
      '/lark/open-apis/auth/v3/tenant_access_token/internal',
      '/lark/open-apis/im/v1/messages?receive_id_type=chat_id',
    ]);
  });
});

describe('LarkHttpClient tenant token', () => {
  it('fetches one token for many calls and shares it across clients of the same app', async () => {
    const cache = new TenantTokenCache();
    const first = client({ tokenCache: cache });
    const second = client({ tokenCache: cache });
    await Promise.all([first.sendText('chat_id', 'a', '1'), first.sendText('chat_id', 'a', '2'), second.sendText('chat_id', 'a', '3')]);
    await first.sendText('chat_id', 'a', '4');
    expect(tokenRequests()).toHaveLength(1);
    await client({ tokenCache: cache, appId: 'cli_other000000001' }).sendText('chat_id', 'a', '5');
    expect(tokenRequests()).toHaveLength(2);
  });

  it('refreshes once the token enters its 60 s safety margin', async () => {
    let now = 1_000_000;
    const cache = new TenantTokenCache({ now: () => now });
    const api = client({ tokenCache: cache });
    await api.sendText('chat_id', 'a', '1');
    now += (7200 - 61) * 1000;
    await api.sendText('chat_id', 'a', '2');
    expect(tokenRequests()).toHaveLength(1);
    now += 2_000;
    await api.sendText('chat_id', 'a', '3');
    expect(tokenRequests()).toHaveLength(2);
    expect(apiRequests()[2].headers.authorization).toBe('Bearer t-token-2');
  });

  it('clamps a short expire so the token is still cached for a while', async () => {
    let now = 0;
    const cache = new TenantTokenCache({ now: () => now });
    fake.handler = (request) => {
      if (request.path === TOKEN_PATH) {
        tokenCounter += 1;
        return { body: { code: 0, tenant_access_token: `t-short-${tokenCounter}`, expire: 10 } };
      }
      return { body: { code: 0, data: { message_id: 'om' } } };
    };
    const api = client({ tokenCache: cache });
    await api.sendText('chat_id', 'a', '1');
    now += 30_000;
    await api.sendText('chat_id', 'a', '2');
    expect(tokenRequests()).toHaveLength(1);
    now += 31_000;
    await api.sendText('chat_id', 'a', '3');
    expect(tokenRequests()).toHaveLength(2);
  });

  it.each([99991663, 99991664, 99991671])('drops the token on %i, refreshes and retries exactly once', async (code) => {
    apiReplies.push(() => ({ status: 400, body: { code, msg: 'token invalid' } }));
    const sent = await client().sendText('chat_id', 'a', 'x');
    expect(sent.messageId).toBe('om_sent');
    expect(tokenRequests()).toHaveLength(2);
    expect(apiRequests().map((r) => r.headers.authorization)).toEqual(['Bearer t-token-1', 'Bearer t-token-2']);
  });

  it('gives up after the single retry when the token keeps being rejected', async () => {
    apiReplies.push(
      () => ({ status: 400, body: { code: 99991663, msg: 'token invalid' } }),
      () => ({ status: 400, body: { code: 99991663, msg: 'token invalid' } }),
    );
    const error = await client().sendText('chat_id', 'a', 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LarkApiError);
    expect(error).toMatchObject({ code: 99991663 });
    expect(apiRequests()).toHaveLength(2);
  });

  it('reports token endpoint failures with the endpoint code and without the secret', async () => {
    fake.handler = () => ({ status: 400, body: { code: 10003, msg: 'invalid param' } });
    const error = await client().sendText('chat_id', 'a', 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LarkApiError);
    expect(error).toMatchObject({ code: 10003, operation: 'tenant_access_token', httpStatus: 400 });
    expect(String((error as Error).message)).not.toContain(SECRET);
  });

  it('lets one caller give up on a shared token request without failing the others', async () => {
    let releaseToken: () => void = () => undefined;
    const tokenGate = new Promise<void>((resolve) => (releaseToken = resolve));
    fake.handler = async (request) => {
      if (request.path !== TOKEN_PATH) return { body: { code: 0, data: { message_id: 'om_patient' } } };
      await tokenGate;
      return { body: { code: 0, tenant_access_token: 't-shared', expire: 7200 } };
    };
    const api = client();
    const quitter = new AbortController();
    const abandoned = api.sendText('chat_id', 'a', '1', { signal: quitter.signal }).catch((e: unknown) => e);
    const patient = api.sendText('chat_id', 'a', '2');
    while (tokenRequests().length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    quitter.abort();
    expect(((await abandoned) as Error).name).toBe('AbortError');
    releaseToken();
    expect((await patient).messageId).toBe('om_patient');
    expect(tokenRequests()).toHaveLength(1);
    expect(apiRequests().map((r) => r.headers.authorization)).toEqual(['Bearer t-shared']);
  });
});

describe('LarkHttpClient errors', () => {
  it('turns 99991400 into a LarkRateLimitError carrying x-ogw-ratelimit-reset', async () => {
    apiReplies.push(() => ({ status: 400, headers: { 'x-ogw-ratelimit-reset': '3' }, body: { code: 99991400, msg: 'request trigger frequency limit' } }));
    const error = await client().sendText('chat_id', 'a', 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LarkRateLimitError);
    expect(error).toMatchObject({ code: 99991400, retryAfterMs: 3000, retryable: true });
  });

  it('turns HTTP 429 (even without a JSON body or header) into a LarkRateLimitError with a fallback wait', async () => {
    apiReplies.push(() => ({ status: 429, body: 'Too Many Requests' }));
    const error = await client({ rateLimitFallbackWaitMs: 1234 }).sendText('chat_id', 'a', 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LarkRateLimitError);
    expect(error).toMatchObject({ httpStatus: 429, retryAfterMs: 1234 });
  });

  it('carries code, msg and http status of a business error, never the token', async () => {
    apiReplies.push(() => ({ status: 400, headers: { 'x-tt-logid': 'log-1' }, body: { code: 230002, msg: 'Bot/User can NOT be out of the chat.' } }));
    const { logger, lines } = capturingLogger();
    const error = (await client({ logger }).sendText('chat_id', 'a', 'x').catch((e: unknown) => e)) as LarkApiError;
    expect(error).toBeInstanceOf(LarkApiError);
    expect(error).toMatchObject({ code: 230002, msg: 'Bot/User can NOT be out of the chat.', httpStatus: 400, logId: 'log-1', retryable: false });
    expect(isRetryableLarkError(error)).toBe(false);
    const visible = `${error.message} ${JSON.stringify(error)} ${lines.join('')}`;
    expect(visible).not.toContain('t-token-1');
    expect(visible).not.toContain(SECRET);
  });

  it('treats an unparseable 5xx as a retryable network error', async () => {
    apiReplies.push(() => ({ status: 502, body: '<html>bad gateway</html>' }));
    const error = await client().sendText('chat_id', 'a', 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LarkNetworkError);
    expect(isRetryableLarkError(error)).toBe(true);
  });

  it('treats a refused connection as a retryable network error', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const error = await client({ hosts: { openBaseUrl: `http://127.0.0.1:${port}` } })
      .sendText('chat_id', 'a', 'x')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LarkNetworkError);
    expect(error).toMatchObject({ retryable: true, timedOut: false });
  });

  it('times out a hanging call as a retryable network error', async () => {
    apiReplies.push(() => ({ hang: true }));
    const error = await client({ requestTimeoutMs: 100 }).sendText('chat_id', 'a', 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LarkNetworkError);
    expect(error).toMatchObject({ timedOut: true, retryable: true });
  });

  it('stops at once when the caller aborts', async () => {
    apiReplies.push(() => ({ hang: true }));
    const controller = new AbortController();
    const pending = client().sendText('chat_id', 'a', 'x', { signal: controller.signal }).catch((e: unknown) => e);
    while (apiRequests().length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const startedAt = performance.now();
    controller.abort();
    const error = (await pending) as Error;
    expect(error.name).toBe('AbortError');
    expect(performance.now() - startedAt).toBeLessThan(100);
  });
});

describe('LarkHttpClient refuses empty required values before any request', () => {
  const card = { schema: '2.0', body: { elements: [{ tag: 'markdown', content: 'hi' }] } };
  const emptyBindingPrompt = bindingPromptCard({ agentName: 'Helper', workspaceName: 'Acme', url: '', ttlMinutes: 15 }).content;

  it.each<[string, (api: LarkHttpClient) => Promise<unknown>, string]>([
    ['sendText without a chat id', (api) => api.sendText('chat_id', '', 'hello'), 'receive_id'],
    ['sendText with a blank open id', (api) => api.sendText('open_id', '   ', 'hello'), 'receive_id'],
    ['sendText without text', (api) => api.sendText('chat_id', 'oc_1', ''), 'text'],
    ['sendCard without a receive id', (api) => api.sendCard('open_id', '', card), 'receive_id'],
    ['sendCard with an empty card object', (api) => api.sendCard('chat_id', 'oc_1', {}), 'card'],
    ['sendCard with an empty card string', (api) => api.sendCard('chat_id', 'oc_1', ''), 'card'],
    ['sendCard with a binding prompt whose URL is empty', (api) => api.sendCard('open_id', 'ou_1', emptyBindingPrompt), 'url'],
    ['reply without a message id', (api) => api.reply('', { msgType: 'text', content: { text: 'hi' } }), 'message_id'],
    ['reply with empty text', (api) => api.reply('om_1', { msgType: 'text', content: { text: '' } }), 'text'],
    ['reply with an empty card', (api) => api.reply('om_1', { msgType: 'interactive', content: {} }), 'card'],
    ['reply with empty content', (api) => api.reply('om_1', { msgType: 'interactive', content: '' }), 'content'],
    ['reply without a message type', (api) => api.reply('om_1', { msgType: '', content: { text: 'hi' } }), 'msg_type'],
    ['getUser without an open id', (api) => api.getUser(''), 'open_id'],
  ])('%s', async (_name, call, field) => {
    const error = await call(client()).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LarkRequestError);
    expect(error).toBeInstanceOf(LarkApiError);
    expect((error as LarkRequestError).field).toBe(field);
    expect((error as Error).message).toContain(field);
    expect(isRetryableLarkError(error)).toBe(false);
    expect(decideRetry(error, 1)).toEqual({ retry: false, reason: 'permanent' });
    // Not even a token request: the call is refused before anything leaves the process.
    expect(fake.requests).toHaveLength(0);
  });

  it('still sends a card whose links all have a URL', async () => {
    const prompt = bindingPromptCard({ agentName: 'Helper', workspaceName: 'Acme', url: 'https://larkspur.example/bind/abc', ttlMinutes: 15 }).content;
    await client().sendCard('open_id', 'ou_1', prompt);
    expect(apiRequests()).toHaveLength(1);
  });
});
