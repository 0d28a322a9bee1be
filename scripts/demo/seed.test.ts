import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as agentsRoute from '@/app/api/workspaces/[id]/agents/route';
import * as beginRoute from '@/app/api/workspaces/[id]/lark/install/begin/route';
import * as installationsRoute from '@/app/api/workspaces/[id]/lark/installations/route';
import * as meRoute from '@/app/api/me/route';
import * as workspacesRoute from '@/app/api/workspaces/route';
import * as workspaceRoute from '@/app/api/workspaces/[id]/route';
import { auth } from '@/server/auth/auth';
import { resetEnvForTests } from '@/server/env';
import { larkIntegration, resetLarkIntegrationForTests } from '@/server/lark/integration';
import { pollDueRegistrations } from '@/server/lark/install/registration-poller';
import { startSimulator, type Simulator } from '../../simulator/server';
import { useTestDatabase, type TestDatabase } from '../../test/db';
import { captureLogs } from '../../test/lark/log-capture';
import { baseUrlFetch, requestJson, type HttpFetch } from './http';
import { seedDemo, type DemoSeed } from './seed';
import { addInstalledBotsToGroup, demoLark } from './seed-lark';

const appUrl = 'http://localhost:3000';
type Handler = (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;

// The app's HTTP API as the demo uses it, served by the route handlers themselves.
const routes: Array<{ pattern: RegExp; names: string[]; handlers: Partial<Record<string, Handler>> }> = [
  { pattern: /^\/api\/me$/, names: [], handlers: meRoute },
  { pattern: /^\/api\/workspaces$/, names: [], handlers: workspacesRoute },
  { pattern: /^\/api\/workspaces\/([^/]+)$/, names: ['id'], handlers: workspaceRoute },
  { pattern: /^\/api\/workspaces\/([^/]+)\/agents$/, names: ['id'], handlers: agentsRoute },
  { pattern: /^\/api\/workspaces\/([^/]+)\/lark\/install\/begin$/, names: ['id'], handlers: beginRoute },
  { pattern: /^\/api\/workspaces\/([^/]+)\/lark\/installations$/, names: ['id'], handlers: installationsRoute },
];

const appFetch: HttpFetch = async (pathAndQuery, init) => {
  const req = new Request(new URL(pathAndQuery, appUrl), init);
  const { pathname } = new URL(req.url);
  if (pathname.startsWith('/api/auth/')) return auth().handler(req);
  for (const route of routes) {
    const match = route.pattern.exec(pathname);
    const handler = route.handlers[req.method];
    if (!match || !handler) continue;
    const params = Object.fromEntries(route.names.map((name, i) => [name, match[i + 1]]));
    return handler(req, { params: Promise.resolve(params) });
  }
  return new Response(null, { status: 404 });
};

type SimState = { tenants: unknown[]; users: unknown[]; apps: unknown[]; chats: Array<{ chat_id: string; user_ids: string[]; app_ids: string[] }> };

describe('demo seeding', () => {
  let t: TestDatabase;
  let dir: string;
  let sim: Simulator;
  const logs = captureLogs();
  const startSim = () => startSimulator({ stateFile: path.join(dir, 'simulator.json'), registrationIntervalSeconds: 1 });
  const seed = () => seedDemo({ app: { send: appFetch, appUrl }, sim: baseUrlFetch(sim.url), credentialsFile: path.join(dir, 'credentials.json') });
  const simState = async () => (await requestJson<SimState>(baseUrlFetch(sim.url), '/_control/state')).body;

  beforeAll(async () => {
    t = await useTestDatabase();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'larkspur-demo-seed-'));
    sim = await startSim();
    process.env.LARK_SECRET_KEY = randomBytes(32).toString('base64');
    process.env.LARK_OPEN_BASE_URL = `${sim.url}/{region}`;
    process.env.LARK_ACCOUNTS_BASE_URL = `${sim.url}/{region}`;
    resetEnvForTests();
    resetLarkIntegrationForTests();
  });
  afterAll(async () => {
    await sim?.close();
    await t?.drop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  let first: DemoSeed;

  test('creates the owner, workspace, agents and Lark team', async () => {
    first = await seed();
    expect(first.owner.email).toBe('demo@larkspur.local');
    expect(first.owner.password.length).toBeGreaterThanOrEqual(12);
    const saved = JSON.parse(await fs.readFile(path.join(dir, 'credentials.json'), 'utf8'));
    expect(saved).toEqual({ email: first.owner.email, password: first.owner.password });
    expect(first.workspace).toMatchObject({ name: 'Demo', slug: 'demo', issue_prefix: 'MUL' });
    expect(first.agents.map((a) => a.name)).toEqual(['Ada', 'Linus']);
    expect(new Set(first.agents.map((a) => a.avatar_color)).size).toBe(2);
    const state = await simState();
    expect(state.tenants).toEqual([{ tenant_key: first.team.tenantKey, brand: 'feishu', name: 'Demo Co' }]);
    expect(first.team.users.map((u) => u.name)).toEqual([...demoLark.users]);
    expect(state.chats).toEqual([expect.objectContaining({ chat_id: first.team.groupChatId, name: 'Demo team', user_ids: first.team.users.map((u) => u.id), app_ids: [] })]);
  });

  test('a second run, after the simulator restarts from its state file, reuses everything', async () => {
    const before = await simState();
    await sim.close();
    sim = await startSim();
    const again = await seed();
    expect(again.owner.password).toBe(first.owner.password);
    expect(again.workspace.id).toBe(first.workspace.id);
    expect(again.agents.map((a) => a.id)).toEqual(first.agents.map((a) => a.id));
    expect(again.team).toEqual(first.team);
    expect((await simState()).chats).toEqual(before.chats);
    const token = again.owner.token;
    expect((await requestJson<{ workspaces: unknown[] }>(appFetch, '/api/me', { token })).body.workspaces).toHaveLength(1);
    const agents = await requestJson<{ agents: unknown[] }>(appFetch, `/api/workspaces/${again.workspace.id}/agents?include_archived=1`, { token });
    expect(agents.body.agents).toHaveLength(2);
  });

  test('an installed bot is added to the group once, and only a bot of the demo tenant', async () => {
    // The simulator restarted after the first run: point the integration at its new port.
    process.env.LARK_OPEN_BASE_URL = `${sim.url}/{region}`;
    process.env.LARK_ACCOUNTS_BASE_URL = `${sim.url}/{region}`;
    resetEnvForTests();
    resetLarkIntegrationForTests();
    const { owner, workspace, agents, team } = first;
    const simFetch = baseUrlFetch(sim.url);
    const outsiderTenant = await requestJson<{ tenant_key: string }>(simFetch, '/_control/tenants', { body: { brand: 'feishu', name: 'Elsewhere' } });
    const outsider = await requestJson<{ id: string }>(simFetch, '/_control/users', { body: { tenant_key: outsiderTenant.body.tenant_key, name: 'Olga' } });
    const install = async (agentId: string, approverId: string) => {
      const begun = await requestJson<{ qr_code_url: string }>(appFetch, `/api/workspaces/${workspace.id}/lark/install/begin`, { token: owner.token, body: { agent_id: agentId } });
      const userCode = new URL(begun.body.qr_code_url).searchParams.get('user_code');
      const approved = await requestJson<{ app_id: string }>(simFetch, `/_control/registrations/${userCode}/approve`, { body: { user_id: approverId } });
      await pollDueRegistrations({ db: t.db, integration: larkIntegration(), logger: logs.logger, tickMs: 50 });
      return approved.body.app_id;
    };
    const input = { app: appFetch, token: owner.token, workspaceId: workspace.id, sim: simFetch, team };

    expect(await addInstalledBotsToGroup(input)).toEqual({ added: [], elsewhere: [] });
    const adaBot = await install(agents[0].id, team.users[0].id);
    expect(await addInstalledBotsToGroup(input)).toEqual({ added: [{ appId: adaBot, agentName: 'Ada' }], elsewhere: [] });
    expect(await addInstalledBotsToGroup(input)).toEqual({ added: [], elsewhere: [] });
    const linusBot = await install(agents[1].id, outsider.body.id);
    expect(await addInstalledBotsToGroup(input)).toEqual({ added: [], elsewhere: [{ appId: linusBot, agentName: 'Linus' }] });
    const group = (await simState()).chats.find((c) => c.chat_id === team.groupChatId);
    expect(group?.app_ids).toEqual([adaBot]);
  });
});
