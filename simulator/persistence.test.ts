import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './server';
import { controlClient, request, tenantToken, waitFor } from './test-support';

type State = {
  tenants: unknown[];
  users: unknown[];
  apps: Array<{ app_id: string; bot_open_id: string; bot_union_id: string }>;
  chats: Array<{ chat_id: string; type: string; user_ids: string[]; app_ids: string[]; message_count: number }>;
};

/** The directory as the control API shows it, without what is live (connections) or time-based. */
async function directoryOf(sim: Simulator) {
  const state = await controlClient(sim.url).get<State & { registrations: unknown }>('/state');
  return {
    tenants: state.tenants,
    users: state.users,
    apps: state.apps.map((app) => ({ ...app, connections: undefined })),
    chats: state.chats,
  };
}

describe('simulator state file', () => {
  let dir: string;
  let stateFile: string;
  const running: Simulator[] = [];
  const start = async () => {
    const sim = await startSimulator({ stateFile, registrationIntervalSeconds: 1 });
    running.push(sim);
    return sim;
  };

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lark-sim-state-'));
    stateFile = path.join(dir, 'nested', 'simulator.json');
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((sim) => sim.close()));
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('keeps tenants, users, apps with their secrets, chats, messages and open_ids across a restart', async () => {
    const first = await start();
    const control = controlClient(first.url);
    const tenant = await control.post<{ tenant_key: string }>('/tenants', { brand: 'feishu', name: 'Demo Co' });
    const mei = await control.post<{ id: string }>('/users', { tenant_key: tenant.tenant_key, name: 'Mei Chen' });
    const sam = await control.post<{ id: string }>('/users', { tenant_key: tenant.tenant_key, name: 'Sam Park' });
    const direct = await control.post<{ app_id: string; app_secret: string }>('/apps', { tenant_key: tenant.tenant_key, name: 'Helper' });

    // A bot created through the device flow, as the product installs one.
    const form = (body: Record<string, string>) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body).toString(),
    });
    const begun = (await (await fetch(`${first.url}/feishu/oauth/v1/app/registration`, form({ action: 'begin', archetype: 'PersonalAgent', auth_method: 'client_secret' }))).json()) as {
      device_code: string;
      user_code: string;
    };
    await control.post(`/registrations/${begun.user_code}/approve`, { user_id: mei.id, name: 'Ada' });
    const polled = (await (await fetch(`${first.url}/feishu/oauth/v1/app/registration`, form({ action: 'poll', device_code: begun.device_code }))).json()) as {
      client_id: string;
      client_secret: string;
      user_info: { open_id: string };
    };
    const registered = { app_id: polled.client_id, app_secret: polled.client_secret };

    const group = await control.post<{ chat_id: string }>('/chats', { tenant_key: tenant.tenant_key, name: 'Demo team', user_ids: [mei.id], app_ids: [direct.app_id] });
    await control.post(`/chats/${group.chat_id}/members`, { user_ids: [sam.id], app_ids: [registered.app_id] });
    const posted = await control.post<{ message_id: string }>('/messages', { user_id: mei.id, chat_id: group.chat_id, text: 'hello @{app:' + registered.app_id + '}' });
    await control.post('/messages', { user_id: sam.id, app_id: registered.app_id, text: 'a DM' });
    const before = await directoryOf(first);
    const groupMessagesBefore = await control.get<{ messages: unknown[] }>(`/chats/${group.chat_id}/messages`);
    await first.close();

    const second = await start();
    expect(second.url).not.toBe('');
    expect(await directoryOf(second)).toEqual(before);
    const after = controlClient(second.url);
    expect(await after.get(`/chats/${group.chat_id}/messages`)).toEqual(groupMessagesBefore);
    expect((await after.get<{ chat_id: string }>(`/p2p?app_id=${registered.app_id}&user_id=${sam.id}`)).chat_id).toBe(
      before.chats.find((c) => c.type === 'p2p')!.chat_id,
    );

    // The app secrets still work, and ids the product learned before the restart still resolve.
    const root = `${second.url}/feishu`;
    const token = await tenantToken(root, registered);
    await tenantToken(root, direct);
    const auth = { authorization: `Bearer ${token}` };
    const dm = await request<{ code: number }>(`${root}/open-apis/im/v1/messages?receive_id_type=open_id`, {
      headers: auth,
      body: { receive_id: polled.user_info.open_id, msg_type: 'text', content: JSON.stringify({ text: 'still here' }) },
    });
    expect(dm.body.code).toBe(0);
    const reply = await request<{ code: number }>(`${root}/open-apis/im/v1/messages/${posted.message_id}/reply`, {
      headers: auth,
      body: { msg_type: 'text', content: JSON.stringify({ text: 'replying' }) },
    });
    expect(reply.body.code).toBe(0);
    const bot = before.apps.find((a) => a.app_id === registered.app_id)!;
    const self = await request<{ code: number; data: { user: { union_id: string } } }>(
      `${root}/open-apis/contact/v3/users/${bot.bot_open_id}?user_id_type=open_id`,
      { headers: auth },
    );
    expect(self.body.data.user.union_id).toBe(bot.bot_union_id);
  });

  it('writes changes shortly after they happen, without waiting for close', async () => {
    const sim = await start();
    await controlClient(sim.url).post('/tenants', { brand: 'lark', name: 'Written early' });
    const saved = await waitFor(async () => {
      const text = await fs.readFile(stateFile, 'utf8').catch(() => undefined);
      return text?.includes('Written early') ? text : undefined;
    }, { what: 'state file' });
    expect(JSON.parse(saved).version).toBe(1);
  });

  it('a reset empties the saved state', async () => {
    const first = await start();
    await controlClient(first.url).post('/tenants', { brand: 'feishu', name: 'Gone' });
    await controlClient(first.url).post('/reset');
    await first.close();
    const second = await start();
    expect((await directoryOf(second)).tenants).toEqual([]);
  });

  it('refuses to start from a file it does not understand', async () => {
    await fs.mkdir(path.dirname(stateFile), { recursive: true });
    await fs.writeFile(stateFile, '{"version": 99}');
    await expect(startSimulator({ stateFile })).rejects.toThrow(/unknown format/);
    await fs.writeFile(stateFile, 'not json');
    await expect(startSimulator({ stateFile })).rejects.toThrow(/not valid JSON/);
  });
});
