import { setTimeout as sleep } from 'node:timers/promises';
import { requestJson, type HttpFetch } from './http';

// The demo's side of the simulator, driven through its control API: a Feishu tenant with a few
// people and a group chat, found by name on later runs (the simulator keeps its state in a file).

export const demoLark = {
  tenant: 'Demo Co',
  brand: 'feishu',
  users: ['Mei Chen', 'Sam Park', 'Priya Rao'],
  group: 'Demo team',
} as const;

type SimState = {
  tenants: Array<{ tenant_key: string; brand: string; name: string }>;
  users: Array<{ id: string; tenant_key: string; name: string }>;
  apps: Array<{ app_id: string; tenant_key: string; name: string }>;
  chats: Array<{ chat_id: string; type: string; name: string; tenant_key: string; user_ids: string[]; app_ids: string[] }>;
};

export type DemoLarkTeam = {
  tenantKey: string;
  users: Array<{ id: string; name: string }>;
  groupChatId: string;
};

const simState = async (sim: HttpFetch) => (await requestJson<SimState>(sim, '/_control/state')).body;

export async function ensureLarkTeam(sim: HttpFetch): Promise<DemoLarkTeam> {
  const state = await simState(sim);
  const tenant =
    state.tenants.find((t) => t.name === demoLark.tenant && t.brand === demoLark.brand) ??
    (await requestJson<SimState['tenants'][number]>(sim, '/_control/tenants', { body: { brand: demoLark.brand, name: demoLark.tenant } })).body;
  const users: DemoLarkTeam['users'] = [];
  for (const name of demoLark.users) {
    const existing = state.users.find((u) => u.tenant_key === tenant.tenant_key && u.name === name);
    users.push(existing ?? (await requestJson<SimState['users'][number]>(sim, '/_control/users', { body: { tenant_key: tenant.tenant_key, name } })).body);
  }
  const userIds = users.map((u) => u.id);
  const group = state.chats.find((c) => c.type === 'group' && c.tenant_key === tenant.tenant_key && c.name === demoLark.group);
  let groupChatId: string;
  if (group) {
    groupChatId = group.chat_id;
    const missing = userIds.filter((id) => !group.user_ids.includes(id));
    if (missing.length > 0) await requestJson(sim, `/_control/chats/${groupChatId}/members`, { body: { user_ids: missing } });
  } else {
    const created = await requestJson<{ chat_id: string }>(sim, '/_control/chats', {
      body: { tenant_key: tenant.tenant_key, name: demoLark.group, user_ids: userIds, app_ids: [] },
    });
    groupChatId = created.body.chat_id;
  }
  return { tenantKey: tenant.tenant_key, users: users.map(({ id, name }) => ({ id, name })), groupChatId };
}

export type Installation = { app_id: string; status: string; region: string; agent: { name: string } };

export type GroupBotsInput = {
  app: HttpFetch;
  token: string;
  workspaceId: string;
  sim: HttpFetch;
  team: DemoLarkTeam;
};

export type GroupBotsResult = {
  added: Array<{ appId: string; agentName: string }>;
  /** Installed bots that live in another simulator tenant (approved by someone outside Demo Co). */
  elsewhere: Array<{ appId: string; agentName: string }>;
};

/** The workspace's bots, as Settings → Integrations lists them. */
export async function listInstallations(input: { app: HttpFetch; token: string; workspaceId: string }): Promise<Installation[]> {
  const { body } = await requestJson<{ installations: Installation[] }>(input.app, `/api/workspaces/${input.workspaceId}/lark/installations`, {
    token: input.token,
  });
  return body.installations;
}

/** Adds every active bot of the workspace that is not yet in the team's group chat to it. */
export async function addInstalledBotsToGroup(input: GroupBotsInput): Promise<GroupBotsResult> {
  const installations = await listInstallations(input);
  const state = await simState(input.sim);
  const group = state.chats.find((c) => c.chat_id === input.team.groupChatId);
  if (!group) throw new Error(`the simulator has no chat ${input.team.groupChatId}`);
  const result: GroupBotsResult = { added: [], elsewhere: [] };
  for (const installation of installations) {
    if (installation.status !== 'active' || group.app_ids.includes(installation.app_id)) continue;
    const bot = { appId: installation.app_id, agentName: installation.agent.name };
    const simApp = state.apps.find((a) => a.app_id === installation.app_id);
    if (simApp?.tenant_key === input.team.tenantKey) result.added.push(bot);
    else result.elsewhere.push(bot);
  }
  if (result.added.length > 0) {
    await requestJson(input.sim, `/_control/chats/${group.chat_id}/members`, { body: { app_ids: result.added.map((b) => b.appId) } });
  }
  return result;
}

/**
 * Every `intervalMs` until the signal aborts, puts newly installed bots into the group chat, so
 * that after binding an agent it can be @-mentioned there at once.
 */
export async function watchInstalledBots(
  input: GroupBotsInput & { intervalMs: number; signal: AbortSignal; log: (line: string) => void },
): Promise<void> {
  const reported = new Set<string>();
  let lastError = '';
  while (!input.signal.aborted) {
    try {
      const { added, elsewhere } = await addInstalledBotsToGroup(input);
      for (const bot of added) input.log(`${bot.agentName}'s bot (${bot.appId}) joined "${demoLark.group}".`);
      for (const bot of elsewhere) {
        if (reported.has(bot.appId)) continue;
        reported.add(bot.appId);
        input.log(`${bot.agentName}'s bot (${bot.appId}) was approved outside ${demoLark.tenant}, so it cannot join "${demoLark.group}".`);
      }
      lastError = '';
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // A web restart or a slow request is not worth a line every two seconds.
      if (message !== lastError && !input.signal.aborted) input.log(`Could not check the installed bots: ${message}`);
      lastError = message;
    }
    await sleep(input.intervalMs, undefined, { signal: input.signal }).catch(() => undefined);
  }
}
