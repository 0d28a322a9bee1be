import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './server';
import { controlClient, request, type Control } from './test-support';

type Begin = {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  interval: number;
  expires_in: number;
};
type PollBody = {
  error?: string;
  client_id?: string;
  client_secret?: string;
  user_info?: { open_id?: string; tenant_brand: string };
};

async function form<T>(url: string, fields: Record<string, string>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, body: (await res.json()) as T };
}

describe('device-flow registration', () => {
  let sim: Simulator;
  let control: Control;
  const endpoint = (brand: 'feishu' | 'lark') => `${sim.url}/${brand}/oauth/v1/app/registration`;
  const begin = async (brand: 'feishu' | 'lark' = 'feishu') =>
    (
      await form<Begin>(endpoint(brand), {
        action: 'begin',
        archetype: 'PersonalAgent',
        auth_method: 'client_secret',
        request_user_info: 'open_id',
      })
    ).body;
  const poll = (brand: 'feishu' | 'lark', deviceCode: string) =>
    form<PollBody>(endpoint(brand), { action: 'poll', device_code: deviceCode });
  const userIn = async (brand: 'feishu' | 'lark') => {
    const tenant = await control.post<{ tenant_key: string }>('/tenants', { brand, name: brand });
    return control.post<{ id: string }>('/users', { tenant_key: tenant.tenant_key, name: 'Ada' });
  };

  beforeAll(async () => {
    sim = await startSimulator({ registrationIntervalSeconds: 1, registrationExpiresInSeconds: 60 });
    control = controlClient(sim.url);
  });
  afterAll(() => sim.close());
  beforeEach(() => control.post('/reset'));

  it('begins with codes, the simulator’s approve page and the interval', async () => {
    const started = await begin();
    expect(started).toEqual({
      device_code: expect.any(String),
      user_code: expect.stringMatching(/^[A-Z]{4}-[A-Z]{4}$/),
      verification_uri: `${sim.url}/approve`,
      verification_uri_complete: `${sim.url}/approve?user_code=${started.user_code}`,
      interval: 1,
      expires_in: 60,
    });
    const { registrations } = await control.get<{ registrations: Array<{ user_code: string; brand: string; status: string }> }>(
      '/registrations?status=pending',
    );
    expect(registrations).toEqual([expect.objectContaining({ user_code: started.user_code, brand: 'feishu', status: 'pending' })]);
  });

  it('answers authorization_pending with HTTP 400, then slow_down when polled faster than the interval', async () => {
    const { device_code } = await begin();
    const first = await poll('feishu', device_code);
    expect(first).toEqual({ status: 400, body: expect.objectContaining({ error: 'authorization_pending' }) });
    const tooSoon = await poll('feishu', device_code);
    expect(tooSoon).toEqual({ status: 400, body: expect.objectContaining({ error: 'slow_down' }) });
  });

  it('answers access_denied after a denial, on every later poll', async () => {
    const { device_code, user_code } = await begin();
    await control.post(`/registrations/${user_code}/deny`);
    expect((await poll('feishu', device_code)).body.error).toBe('access_denied');
    const again = await request(`${sim.url}/_control/registrations/${user_code}/approve`, { body: { user_id: 'usr_x' } });
    expect(again.status).toBe(409);
  });

  it('answers expired_token after the code expires', async () => {
    const shortLived = await startSimulator({ registrationIntervalSeconds: 1, registrationExpiresInSeconds: 1 });
    try {
      const res = await form<Begin>(`${shortLived.url}/oauth/v1/app/registration`, {
        action: 'begin',
        archetype: 'PersonalAgent',
        auth_method: 'client_secret',
      });
      await new Promise((r) => setTimeout(r, 1100));
      const late = await form<PollBody>(`${shortLived.url}/oauth/v1/app/registration`, {
        action: 'poll',
        device_code: res.body.device_code,
      });
      expect(late).toEqual({ status: 400, body: expect.objectContaining({ error: 'expired_token' }) });
    } finally {
      await shortLived.close();
    }
  });

  it('succeeds once with the app credentials and the approver’s open_id', async () => {
    const user = await userIn('feishu');
    const { device_code, user_code } = await begin();
    const approved = await control.post<{ app_id: string; brand: string }>(`/registrations/${user_code}/approve`, {
      user_id: user.id,
      app_name: 'Scout',
    });
    const done = await poll('feishu', device_code);
    expect(done.status).toBe(200);
    expect(done.body).toEqual({
      client_id: approved.app_id,
      client_secret: expect.any(String),
      user_info: {
        open_id: (await control.get<{ open_id: string }>(`/apps/${approved.app_id}/open-id?user_id=${user.id}`)).open_id,
        tenant_brand: 'feishu',
      },
    });
    expect(await control.get(`/apps/${approved.app_id}`)).toEqual(expect.objectContaining({ name: 'Scout', owner_user_id: user.id }));
    expect((await poll('feishu', device_code)).body.error).toBe('invalid_grant');
  });

  it('names the other brand (with unusable credentials) and succeeds on that brand’s host', async () => {
    const user = await userIn('lark');
    const { device_code, user_code } = await begin('feishu');
    await poll('feishu', device_code);
    await control.post(`/registrations/${user_code}/approve`, { user_id: user.id });

    const switched = await poll('feishu', device_code);
    expect(switched.status).toBe(200);
    expect(switched.body.user_info?.tenant_brand).toBe('lark');
    const decoy = await request<{ code: number }>(`${sim.url}/lark/open-apis/auth/v3/tenant_access_token/internal`, {
      body: { app_id: switched.body.client_id, app_secret: switched.body.client_secret },
    });
    expect(decoy.body.code).not.toBe(0);

    // Polled at once on the other host: no slow_down there.
    const done = await poll('lark', device_code);
    expect(done.status).toBe(200);
    expect(done.body.user_info?.tenant_brand).toBe('lark');
    const token = await request<{ code: number }>(`${sim.url}/lark/open-apis/auth/v3/tenant_access_token/internal`, {
      body: { app_id: done.body.client_id, app_secret: done.body.client_secret },
    });
    expect(token.body.code).toBe(0);
  });

  it('rejects requests that are not form-encoded or name no known action', async () => {
    const json = await request<{ error: string }>(endpoint('feishu'), { body: { action: 'begin' } });
    expect([json.status, json.body.error]).toEqual([400, 'invalid_request']);
    expect((await form<{ error: string }>(endpoint('feishu'), { action: 'dance' })).body.error).toBe('invalid_request');
    expect((await poll('feishu', 'unknown')).body.error).toBe('invalid_grant');
    const { registrations } = await control.get<{ registrations: unknown[] }>('/registrations');
    expect(registrations).toEqual([]);
  });
});
