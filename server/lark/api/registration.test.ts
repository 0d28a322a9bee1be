import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeHttp, type FakeHttp, type RecordedRequest, type ScriptedReply } from '../test-support/fake-http';
import {
  beginRegistration,
  decorateQrUrl,
  LarkRegistrationError,
  pollRegistrationOnce,
  type RegistrationPollResult,
} from './registration';

let fake: FakeHttp;
let replies: Record<'feishu' | 'lark', ScriptedReply[]>;

function form(request: RecordedRequest): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(request.body));
}

beforeEach(async () => {
  replies = { feishu: [], lark: [] };
  fake = await startFakeHttp((request) => {
    const brand = request.path.startsWith('/lark/') ? 'lark' : 'feishu';
    return replies[brand].shift() ?? { status: 400, body: { error: 'authorization_pending' } };
  });
});

afterEach(async () => {
  await fake.close();
});

const options = () => ({ hosts: { accountsBaseUrl: `${fake.baseUrl}/{region}` } });

function poll(overrides: Partial<Parameters<typeof pollRegistrationOnce>[0]> = {}): Promise<RegistrationPollResult> {
  return pollRegistrationOnce({ deviceCode: 'dev-1', brand: 'feishu', intervalSeconds: 5, ...overrides }, options());
}

describe('beginRegistration', () => {
  it('posts the documented form and reads the reply', async () => {
    replies.feishu.push({
      body: {
        device_code: 'dev-1',
        user_code: 'ABCD-EFGH',
        verification_uri: 'https://accounts.feishu.cn/verify',
        verification_uri_complete: 'https://accounts.feishu.cn/verify?user_code=ABCD-EFGH',
        interval: 7,
        expires_in: 300,
      },
    });
    const begun = await beginRegistration('feishu', options());
    expect(begun).toEqual({
      brand: 'feishu',
      deviceCode: 'dev-1',
      userCode: 'ABCD-EFGH',
      verificationUri: 'https://accounts.feishu.cn/verify',
      verificationUriComplete: 'https://accounts.feishu.cn/verify?user_code=ABCD-EFGH',
      intervalSeconds: 7,
      expiresInSeconds: 300,
    });
    const [request] = fake.requests;
    expect(request.path).toBe('/feishu/oauth/v1/app/registration');
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(form(request)).toEqual({ action: 'begin', archetype: 'PersonalAgent', auth_method: 'client_secret', request_user_info: 'open_id' });
  });

  it('accepts expire_in and defaults interval to 5 s and expiry to 600 s', async () => {
    replies.lark.push({ body: { device_code: 'd', verification_uri_complete: 'https://x/v?c=1', expire_in: 120 } });
    expect(await beginRegistration('lark', options())).toMatchObject({ intervalSeconds: 5, expiresInSeconds: 120 });
    replies.lark.push({ body: { device_code: 'd', verification_uri_complete: 'https://x/v?c=1' } });
    expect(await beginRegistration('lark', options())).toMatchObject({ intervalSeconds: 5, expiresInSeconds: 600 });
  });

  it('fails with a typed error on an error reply or a non-protocol page', async () => {
    replies.feishu.push({ status: 400, body: { error: 'invalid_request' } });
    await expect(beginRegistration('feishu', options())).rejects.toMatchObject({ name: 'LarkRegistrationError', code: 'invalid_request' });
    replies.feishu.push({ status: 503, body: '<html>unavailable</html>' });
    await expect(beginRegistration('feishu', options())).rejects.toMatchObject({ code: 'http_503', httpStatus: 503 });
  });
});

describe('pollRegistrationOnce', () => {
  it('posts the poll form', async () => {
    await poll();
    expect(form(fake.requests[0])).toEqual({ action: 'poll', device_code: 'dev-1' });
  });

  it('keeps polling on authorization_pending sent with HTTP 400, and on an empty object', async () => {
    replies.feishu.push({ status: 400, body: { error: 'authorization_pending' } }, { status: 200, body: {} });
    expect(await poll()).toEqual({ status: 'pending', intervalSeconds: 5 });
    expect(await poll()).toEqual({ status: 'pending', intervalSeconds: 5 });
  });

  it('adds 5 s to the interval on slow_down', async () => {
    replies.feishu.push({ status: 400, body: { error: 'slow_down' } });
    expect(await poll({ intervalSeconds: 6 })).toEqual({ status: 'pending', intervalSeconds: 11 });
  });

  it.each(['access_denied', 'expired_token', 'invalid_grant'])('stops with %s', async (error) => {
    replies.feishu.push({ status: 400, body: { error, error_description: 'because' } });
    expect(await poll()).toEqual({ status: 'failed', error, description: 'because' });
  });

  it('reports an unparseable non-2xx reply as a protocol error http_NNN', async () => {
    replies.feishu.push({ status: 502, body: '<html>Bad Gateway</html>' });
    const error = await poll().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LarkRegistrationError);
    expect(error).toMatchObject({ code: 'http_502', httpStatus: 502 });
  });

  it('returns the credentials on success', async () => {
    replies.feishu.push({ body: { client_id: 'cli_new', client_secret: 'sec', user_info: { open_id: 'ou_installer', tenant_brand: 'feishu' } } });
    expect(await poll()).toEqual({ status: 'success', clientId: 'cli_new', clientSecret: 'sec', openId: 'ou_installer', brand: 'feishu' });
  });

  it('asks to switch brand when the tenant belongs to the other brand, ignoring the credentials', async () => {
    replies.feishu.push({ body: { client_id: 'cli_ignored', client_secret: 'ignored', user_info: { open_id: 'ou_x', tenant_brand: 'lark' } } });
    expect(await poll()).toEqual({ status: 'switch_brand', brand: 'lark', intervalSeconds: 5 });
    replies.lark.push({ body: { user_info: { tenant_brand: 'feishu' } } });
    expect(await poll({ brand: 'lark' })).toEqual({ status: 'switch_brand', brand: 'feishu', intervalSeconds: 5 });
  });

  it('does not follow a second switch: the brand that answered keeps the credentials', async () => {
    replies.lark.push({ body: { client_id: 'cli_new', client_secret: 'sec', user_info: { open_id: 'ou', tenant_brand: 'feishu' } } });
    expect(await poll({ brand: 'lark', brandSwitched: true })).toMatchObject({ status: 'success', brand: 'lark', clientId: 'cli_new' });
  });
});

describe('decorateQrUrl', () => {
  it('keeps the query and adds the sdk markers, the source and a default bot name', () => {
    const url = new URL(decorateQrUrl('https://accounts.feishu.cn/oauth/v1/app/verify?user_code=ABCD-1234&lang=zh', 'Release Helper'));
    expect(url.origin + url.pathname).toBe('https://accounts.feishu.cn/oauth/v1/app/verify');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      user_code: 'ABCD-1234',
      lang: 'zh',
      from: 'sdk',
      tp: 'sdk',
      source: 'larkspur',
      name: 'Release Helper - Larkspur',
    });
  });

  it('falls back to the product name for a blank agent name', () => {
    expect(new URL(decorateQrUrl('https://x.test/v?c=1', '   ')).searchParams.get('name')).toBe('Larkspur');
  });
});
