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

  it('keeps small images and files, fillers and merge_forwards across a restart, not blobs over 2 MB', async () => {
    const first = await start();
    const control = controlClient(first.url);
    const tenant = await control.post<{ tenant_key: string }>('/tenants', { brand: 'feishu', name: 'Media Co' });
    const user = await control.post<{ id: string }>('/users', { tenant_key: tenant.tenant_key, name: 'Ada' });
    const app = await control.post<{ app_id: string; app_secret: string }>('/apps', { tenant_key: tenant.tenant_key, name: 'Bot' });
    const { chat_id: chatId } = await control.post<{ chat_id: string }>('/chats', { tenant_key: tenant.tenant_key, name: 'Media', user_ids: [user.id], app_ids: [app.app_id] });
    const say = (body: Record<string, unknown>) => control.post<{ message_id: string }>('/messages', { user_id: user.id, chat_id: chatId, ...body });
    const { message_id: image } = await say({ image: { sample: 'screenshot' } });
    const { message_id: filler } = await say({ file: { size_bytes: 5 * 1024 * 1024 } });
    const { message_id: large } = await say({ file: { data_base64: Buffer.alloc(2 * 1024 * 1024 + 1, 7).toString('base64'), file_name: 'large.bin' } });
    const { message_id: forward } = await say({ merge_forward: { message_ids: [image] } });
    const rowsBefore = (await control.get<{ messages: Array<{ message_id: string; content: Record<string, string> }> }>(`/chats/${chatId}/messages`)).messages;
    const keyOf = (id: string, field: string) => rowsBefore.find((m) => m.message_id === id)!.content[field];
    await first.close();

    const second = await start();
    const token = await tenantToken(`${second.url}/feishu`, app);
    const download = (id: string, key: string, type: string) =>
      fetch(`${second.url}/open-apis/im/v1/messages/${id}/resources/${key}?type=${type}`, { headers: { authorization: `Bearer ${token}` } });
    const png = await download(image, keyOf(image, 'image_key'), 'image');
    expect(png.status).toBe(200);
    expect((await png.arrayBuffer()).byteLength).toBeGreaterThan(100);
    const big = await download(filler, keyOf(filler, 'file_key'), 'file');
    expect([big.status, big.headers.get('content-length')]).toEqual([200, String(5 * 1024 * 1024)]);
    await big.arrayBuffer();
    // Over 2 MB: not in the file, so gone after the restart.
    const gone = await download(large, keyOf(large, 'file_key'), 'file');
    expect([gone.status, ((await gone.json()) as { code: number }).code]).toEqual([400, 234003]);
    const got = await request<{ data: { items: Array<{ upper_message_id?: string }> } }>(`${second.url}/open-apis/im/v1/messages/${forward}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(got.body.data.items.map((i) => i.upper_message_id)).toEqual([undefined, forward]);
    const saved = await fs.readFile(stateFile, 'utf8');
    expect(saved.length).toBeLessThan(1024 * 1024);
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
