import { defaultHttpInstance, registerApp } from '@larksuiteoapi/node-sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './server';
import { controlClient, request, waitFor, type Control } from './test-support';

type Pending = { registrations: Array<{ user_code: string; status: string; brand: string }> };

describe('official SDK registerApp against the simulator', () => {
  let sim: Simulator;
  let control: Control;
  let interceptor: number | undefined;

  beforeAll(async () => {
    sim = await startSimulator({ registrationIntervalSeconds: 1 });
    control = controlClient(sim.url);
    // registerApp always dials https://<accounts host>: send both brands' hosts to the simulator's roots.
    interceptor = defaultHttpInstance.interceptors.request.use((config) => {
      config.url = config.url
        ?.replace('https://accounts.feishu.cn', `${sim.url}/feishu`)
        .replace('https://accounts.larksuite.com', `${sim.url}/lark`);
      return config;
    });
  });
  afterEach(() => control.post('/reset'));
  afterAll(async () => {
    if (interceptor !== undefined) defaultHttpInstance.interceptors.request.eject(interceptor);
    await sim.close();
  });

  async function userIn(brand: 'feishu' | 'lark', name: string) {
    const tenant = await control.post<{ tenant_key: string }>('/tenants', { brand, name: `${brand} tenant` });
    return control.post<{ id: string }>('/users', { tenant_key: tenant.tenant_key, name });
  }

  it('completes a registration approved through the control API, with the bot named from the QR URL', async () => {
    const user = await userIn('feishu', 'Ada');
    let qrUrl = '';
    const statuses: string[] = [];
    const result = registerApp({
      appPreset: { name: 'Scout - Larkspur' },
      onQRCodeReady: ({ url }) => {
        qrUrl = url;
      },
      onStatusChange: ({ status }) => statuses.push(status),
    });

    const pending = await waitFor(async () => (await control.get<Pending>('/registrations?status=pending')).registrations[0], {
      what: 'the registration to begin',
    });
    await waitFor(() => statuses.includes('polling') || undefined, { what: 'a pending poll' });
    const qr = new URL(qrUrl);
    expect(`${qr.origin}${qr.pathname}`).toBe(`${sim.url}/approve`);
    expect(qr.searchParams.get('user_code')).toBe(pending.user_code);

    const approved = await control.post<{ app_id: string; brand: string }>(`/registrations/${pending.user_code}/approve`, {
      user_id: user.id,
      name: qr.searchParams.get('name'),
    });
    const done = await result;
    expect(done.client_id).toBe(approved.app_id);
    expect(done.user_info).toEqual({
      open_id: (await control.get<{ open_id: string }>(`/apps/${approved.app_id}/open-id?user_id=${user.id}`)).open_id,
      tenant_brand: 'feishu',
    });
    expect(await control.get(`/apps/${approved.app_id}`)).toEqual(
      expect.objectContaining({ name: 'Scout - Larkspur', brand: 'feishu', owner_user_id: user.id }),
    );
    // The secret it got is the app's real one.
    const token = await request<{ code: number }>(`${sim.url}/feishu/open-apis/auth/v3/tenant_access_token/internal`, {
      body: { app_id: done.client_id, app_secret: done.client_secret },
    });
    expect(token.body.code).toBe(0);
  });

  it('switches to the lark accounts host when a lark user approves a flow begun on feishu', async () => {
    const user = await userIn('lark', 'Lin');
    const statuses: string[] = [];
    const result = registerApp({ onQRCodeReady: () => {}, onStatusChange: ({ status }) => statuses.push(status) });
    const pending = await waitFor(async () => (await control.get<Pending>('/registrations?status=pending')).registrations[0]);
    const approved = await control.post<{ app_id: string; brand: string }>(`/registrations/${pending.user_code}/approve`, {
      user_id: user.id,
    });
    expect(approved.brand).toBe('lark');

    const done = await result;
    expect(statuses).toContain('domain_switched');
    expect(done.client_id).toBe(approved.app_id);
    expect(done.user_info?.tenant_brand).toBe('lark');
    const token = await request<{ code: number }>(`${sim.url}/lark/open-apis/auth/v3/tenant_access_token/internal`, {
      body: { app_id: done.client_id, app_secret: done.client_secret },
    });
    expect(token.body.code).toBe(0);
  });
});
