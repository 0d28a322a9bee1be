import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@/simulator/server';
import { SimControl, type SimUser } from '../test-support/sim-control';
import type { LarkRegion } from './hosts';
import { LarkHttpClient } from './http-client';
import { beginRegistration, decorateQrUrl, pollRegistrationOnce, type RegistrationBegin } from './registration';
import { TenantTokenCache } from './tenant-token-cache';

let sim: Simulator;
let control: SimControl;
let feishuUser: SimUser;
let larkUser: SimUser;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, registrationIntervalSeconds: 1 });
  control = new SimControl(sim.url);
});

afterAll(async () => {
  await sim.close();
});

beforeEach(async () => {
  await control.reset();
  feishuUser = await control.createUser((await control.createTenant('feishu', 'Acme CN')).tenant_key, 'Wang');
  larkUser = await control.createUser((await control.createTenant('lark', 'Acme Global')).tenant_key, 'Jane');
});

const hosts = () => ({ accountsBaseUrl: control.hostOverride, openBaseUrl: control.hostOverride });

async function begin(brand: LarkRegion): Promise<RegistrationBegin> {
  return beginRegistration(brand, { hosts: hosts() });
}

function pollOnce(begun: RegistrationBegin, brand: LarkRegion = begun.brand, brandSwitched = false) {
  return pollRegistrationOnce({ deviceCode: begun.deviceCode, brand, intervalSeconds: begun.intervalSeconds, brandSwitched }, { hosts: hosts() });
}

async function userCodeOf(begun: RegistrationBegin): Promise<string> {
  const pending = await control.registrations('pending');
  const userCode = begun.userCode ?? new URL(begun.verificationUriComplete).searchParams.get('user_code');
  const match = pending.find((r) => r.user_code === userCode);
  if (!match) throw new Error(`registration ${userCode} not pending: ${JSON.stringify(pending)}`);
  return match.user_code;
}

describe('device-flow registration against the simulator', () => {
  it('begins a session with a QR URL that keeps its query', async () => {
    const begun = await begin('feishu');
    expect(begun.intervalSeconds).toBe(1);
    expect(begun.expiresInSeconds).toBeGreaterThan(0);
    const pending = await control.registrations('pending');
    expect(pending).toHaveLength(1);
    expect(pending[0].brand).toBe('feishu');
    const qr = new URL(decorateQrUrl(begun.verificationUriComplete, 'Release Helper'));
    expect(qr.searchParams.get('user_code')).toBe(await userCodeOf(begun));
    expect(qr.searchParams.get('name')).toBe('Release Helper - Larkspur');
  });

  it('reports pending, then slow_down when polled too fast', async () => {
    const begun = await begin('feishu');
    expect(await pollOnce(begun)).toEqual({ status: 'pending', intervalSeconds: 1 });
    expect(await pollOnce(begun)).toEqual({ status: 'pending', intervalSeconds: 6 });
  });

  it('succeeds after approval with working credentials and the installer open_id', async () => {
    const begun = await begin('feishu');
    await pollOnce(begun);
    const approved = await control.approveRegistration(await userCodeOf(begun), feishuUser.id, 'Release Helper - Larkspur');
    const result = await pollOnce(begun);
    if (result.status !== 'success') throw new Error(`unexpected ${JSON.stringify(result)}`);
    expect(result.brand).toBe('feishu');
    expect(result.clientId).toBe(approved.app_id);
    expect(result.openId).toBe(await control.openIdOf(approved.app_id, feishuUser.id));

    const api = new LarkHttpClient({
      appId: result.clientId,
      appSecret: result.clientSecret,
      region: result.brand,
      hosts: hosts(),
      tokenCache: new TenantTokenCache(),
    });
    const bot = await api.getBotInfo();
    expect(bot.appName).toBe('Release Helper - Larkspur');
    expect((await api.getUser(bot.openId)).unionId).toBe((await control.getApp(approved.app_id)).bot_union_id);
  });

  it('stops with access_denied when the user denies', async () => {
    const begun = await begin('feishu');
    await control.denyRegistration(await userCodeOf(begun));
    expect(await pollOnce(begun)).toMatchObject({ status: 'failed', error: 'access_denied' });
  });

  it('stops with invalid_grant for an unknown device code', async () => {
    const result = await pollRegistrationOnce({ deviceCode: 'no-such-code', brand: 'feishu', intervalSeconds: 5 }, { hosts: hosts() });
    expect(result).toMatchObject({ status: 'failed', error: 'invalid_grant' });
  });

  it.each([
    ['feishu', 'lark'],
    ['lark', 'feishu'],
  ] as const)('switches from %s to %s when the approver belongs to the other brand', async (startBrand, finalBrand) => {
    const begun = await begin(startBrand);
    const approver = finalBrand === 'lark' ? larkUser : feishuUser;
    const approved = await control.approveRegistration(await userCodeOf(begun), approver.id);
    expect(approved.brand).toBe(finalBrand);
    const switched = await pollOnce(begun);
    expect(switched).toEqual({ status: 'switch_brand', brand: finalBrand, intervalSeconds: 1 });
    // Followed immediately on the other accounts host with the same device code.
    const result = await pollOnce(begun, finalBrand, true);
    if (result.status !== 'success') throw new Error(`unexpected ${JSON.stringify(result)}`);
    expect(result).toMatchObject({ brand: finalBrand, clientId: approved.app_id });
    const bot = await new LarkHttpClient({
      appId: result.clientId,
      appSecret: result.clientSecret,
      region: result.brand,
      hosts: hosts(),
      tokenCache: new TenantTokenCache(),
    }).getBotInfo();
    expect(bot.openId).toBe((await control.getApp(approved.app_id)).bot_open_id);
  });

  it('reports expired_token once the session has expired', async () => {
    const shortLived = await startSimulator({ port: 0, registrationExpiresInSeconds: 1 });
    try {
      const shortControl = new SimControl(shortLived.url);
      const shortHosts = { accountsBaseUrl: shortControl.hostOverride };
      const begun = await beginRegistration('feishu', { hosts: shortHosts });
      expect(begun.expiresInSeconds).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const result = await pollRegistrationOnce({ deviceCode: begun.deviceCode, brand: 'feishu', intervalSeconds: 5 }, { hosts: shortHosts });
      expect(result).toMatchObject({ status: 'failed', error: 'expired_token' });
    } finally {
      await shortLived.close();
    }
  });
});
