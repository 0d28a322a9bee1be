// Attack: make the worker call into its own network through an agent's OpenAI-compatible base URL
// (loopback, cloud metadata, private ranges, a public name that resolves inside, a redirect) and read
// the answer back through the task's error. Only owners and admins configure a model endpoint; the
// web refuses address literals when a base URL is saved, and the worker refuses every non-public
// address when it connects; no redirect is followed; the endpoint's response never reaches users.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as agents from '@/app/api/workspaces/[id]/agents/route';
import * as agentOne from '@/app/api/workspaces/[id]/agents/[agentId]/route';
import { agent } from '@/server/db/schema';
import { call } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';
import { seedAgent } from '../seed';
import { askAgent, configure, createTeam, newSecretKey, runWorkerUntilDone, startModelServer, tasksOfAgent, transcript, type ModelServer, type Team } from './agent-endpoints';

const INTERNAL = 'INTERNAL-ONLY-7f3a';
let t: TestDatabase;
let team: Team;
let internal: ModelServer;
const secretKey = newSecretKey();

beforeAll(async () => {
  t = await useTestDatabase();
  configure({ LARK_SECRET_KEY: secretKey.toString('base64'), AGENT_ENDPOINT_ALLOWLIST: undefined });
  team = await createTeam(t, 'ssrf-team');
  // A service inside the network that must stay out of reach; it answers with something internal.
  internal = await startModelServer({ reply: INTERNAL });
});
afterAll(async () => {
  await internal?.close();
  await t?.drop();
});

const openai = (base_url: string, extra: Record<string, unknown> = {}) => ({ kind: 'openai', base_url, model: 'm', api_key: 'sk-test', ...extra });
const agentCount = async () => (await t.db.select().from(agent).where(eq(agent.workspaceId, team.workspaceId))).length;

describe('who may configure a model endpoint', () => {
  test('a member cannot create an agent that calls a model endpoint, nor switch an agent to one', async () => {
    const p = { id: team.workspaceId };
    const before = await agentCount();
    const created = await call(agents.POST, 'POST', { token: team.member.token, params: p, body: { name: 'Mine', avatar_color: '#123456', runtime: openai('https://models.example.com/v1') } });
    expect(created.status).toBe(403);
    expect(await agentCount()).toBe(before);

    // Echo makes no call and holds no secret: members may still use it.
    const echo = await call(agents.POST, 'POST', { token: team.member.token, params: p, body: { name: 'Echo', avatar_color: '#123456', runtime: { kind: 'echo' } } });
    expect(echo.status).toBe(201);
    expect(echo.body.agent.can_configure_runtime).toBe(false);
    const switched = await call(agentOne.PATCH, 'PATCH', {
      token: team.member.token,
      params: { ...p, agentId: echo.body.agent.id },
      body: { name: 'Renamed', runtime: openai('https://models.example.com/v1') },
    });
    expect(switched.status).toBe(403);
    const [row] = await t.db.select().from(agent).where(eq(agent.id, echo.body.agent.id));
    expect(row).toMatchObject({ name: 'Echo', runtimeKind: 'echo' });
  });

  test('a member cannot change or remove the model endpoint of an agent they own', async () => {
    const owned = await seedAgent(t.db, {
      workspaceId: team.workspaceId,
      ownerUserId: team.member.id,
      runtimeKind: 'openai',
      runtimeConfig: { baseUrl: 'https://models.example.com/v1', model: 'm', stream: false, apiKey: 'sk-admin-set' },
    });
    const p = { id: team.workspaceId, agentId: owned.id };
    expect((await call(agentOne.PATCH, 'PATCH', { token: team.member.token, params: p, body: { runtime: openai('https://elsewhere.example.com/v1') } })).status).toBe(403);
    expect((await call(agentOne.PATCH, 'PATCH', { token: team.member.token, params: p, body: { runtime: null } })).status).toBe(403);
    // Renaming (the form resends the runtime unchanged, without the key) is still theirs to do.
    const renamed = await call(agentOne.PATCH, 'PATCH', {
      token: team.member.token,
      params: p,
      body: { name: 'Still mine', runtime: { kind: 'openai', base_url: 'https://models.example.com/v1', model: 'm' } },
    });
    expect(renamed.status).toBe(200);
    const [row] = await t.db.select().from(agent).where(eq(agent.id, owned.id));
    expect(row.runtimeConfig).toMatchObject({ baseUrl: 'https://models.example.com/v1' });
  });
});

describe('saving a base URL that points inside', () => {
  const internalUrls = () => [
    internal.url(),
    internal.url().replace('127.0.0.1', 'localhost'),
    internal.url().replace('127.0.0.1', 'api.localhost'),
    'http://169.254.169.254/latest/meta-data/iam/security-credentials#',
    'http://[fd00:ec2::254]/latest',
    `http://[::1]:${new URL(internal.url()).port}/v1`,
    `http://[::ffff:127.0.0.1]:${new URL(internal.url()).port}/v1`,
    'http://[::ffff:a9fe:a9fe]/latest',
    `http://2130706433:${new URL(internal.url()).port}/v1`,
    'http://0x7f.1/v1',
    'http://0.0.0.0/v1',
    'http://10.1.2.3/v1',
    'http://172.16.0.10/v1',
    'http://192.168.1.1/v1',
    'http://100.64.0.1/v1',
    'http://[fe80::1]/v1',
    'http://224.0.0.1/v1',
  ];

  test('is refused with a 422 on the base URL, for every kind of internal address, and nothing is stored', async () => {
    const p = { id: team.workspaceId };
    const before = await agentCount();
    for (const url of internalUrls()) {
      const res = await call(agents.POST, 'POST', { token: team.owner.token, params: p, body: { name: 'Probe', avatar_color: '#123456', runtime: openai(url) } });
      expect(res.status, url).toBe(422);
      expect(res.body.error.fields['runtime.base_url'], url).toBeTruthy();
    }
    expect(await agentCount()).toBe(before);
    expect(internal.requests).toHaveLength(0);
  });

  test('is refused on update too, and the agent keeps its endpoint', async () => {
    const created = await call(agents.POST, 'POST', {
      token: team.owner.token,
      params: { id: team.workspaceId },
      body: { name: 'Public', avatar_color: '#123456', runtime: openai('https://models.example.com/v1') },
    });
    expect(created.status).toBe(201);
    const p = { id: team.workspaceId, agentId: created.body.agent.id };
    const res = await call(agentOne.PATCH, 'PATCH', { token: team.admin.token, params: p, body: { runtime: openai('http://169.254.169.254/latest') } });
    expect(res.status).toBe(422);
    const [row] = await t.db.select().from(agent).where(eq(agent.id, created.body.agent.id));
    expect(row.runtimeConfig).toMatchObject({ baseUrl: 'https://models.example.com/v1' });
  });
});

describe('the worker, whatever is stored', () => {
  // Rows written before these checks existed, or names the web cannot judge without DNS.
  test.each([
    ['a loopback address', () => internal.url()],
    ['a name that resolves to loopback', () => internal.url().replace('127.0.0.1', 'localhost')],
    ['an IPv4-mapped IPv6 loopback address', () => `http://[::ffff:127.0.0.1]:${new URL(internal.url()).port}/v1`],
  ])('never connects to %s, and the task says why without any of its words', async (_name, baseUrl) => {
    const a = await seedAgent(t.db, {
      workspaceId: team.workspaceId,
      ownerUserId: team.owner.id,
      runtimeKind: 'openai',
      runtimeConfig: { baseUrl: baseUrl(), model: 'm', stream: false, apiKey: 'sk-legacy' },
    });
    const { sessionId } = await askAgent(team, team.owner, a.id);
    await runWorkerUntilDone(t, { agentId: a.id, secretKey });
    expect(internal.requests).toHaveLength(0);
    const [task] = await tasksOfAgent(t, a.id);
    expect(task.status).toBe('failed');
    expect(task.error).toBe('The model endpoint is not allowed from this server');
    const seen = await transcript(team, team.owner, sessionId);
    expect(JSON.stringify(seen)).not.toContain(INTERNAL);
    expect(seen.tasks[0].error_detail).toMatch(/AGENT_ENDPOINT_ALLOWLIST/);
  });

  test('an address the operator allowlists (a self-hosted model) is reached', async () => {
    const a = await seedAgent(t.db, {
      workspaceId: team.workspaceId,
      ownerUserId: team.owner.id,
      runtimeKind: 'openai',
      runtimeConfig: { baseUrl: internal.url(), model: 'm', stream: false, apiKey: 'sk-self-hosted' },
    });
    await askAgent(team, team.owner, a.id);
    await runWorkerUntilDone(t, { agentId: a.id, secretKey, env: { AGENT_ENDPOINT_ALLOWLIST: '127.0.0.0/8' } });
    const [task] = await tasksOfAgent(t, a.id);
    expect(task.status).toBe('completed');
    expect(internal.requests.at(-1)?.authorization).toBe('Bearer sk-self-hosted');
    internal.requests.length = 0;
  });

  test('follows no redirect, not even from an allowlisted endpoint to another one', async () => {
    const target = await startModelServer({ host: '127.0.0.2', reply: INTERNAL });
    const redirecting = await startModelServer({
      respond: (req, res) => res.writeHead(307, { location: `${target.origin}${req.url}` }).end(),
    });
    try {
      const a = await seedAgent(t.db, {
        workspaceId: team.workspaceId,
        ownerUserId: team.owner.id,
        runtimeKind: 'openai',
        runtimeConfig: { baseUrl: redirecting.url(), model: 'm', stream: false, apiKey: 'sk-redirected' },
      });
      const { sessionId } = await askAgent(team, team.owner, a.id);
      await runWorkerUntilDone(t, { agentId: a.id, secretKey, env: { AGENT_ENDPOINT_ALLOWLIST: '127.0.0.1,127.0.0.2' } });
      expect(redirecting.requests.length).toBeGreaterThan(0);
      expect(target.requests).toHaveLength(0);
      const [task] = await tasksOfAgent(t, a.id);
      expect(task.status).toBe('failed');
      expect(task.error).toBe('The model endpoint answered HTTP 307');
      expect(JSON.stringify(await transcript(team, team.owner, sessionId))).not.toContain(INTERNAL);
    } finally {
      await target.close();
      await redirecting.close();
    }
  });

  test("the endpoint's response body reaches neither the chat nor the admins' detail", async () => {
    const talkative = await startModelServer({
      respond: (_req, res) =>
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `${INTERNAL}: db password is hunter2`, type: 'server_error' } })),
    });
    try {
      const a = await seedAgent(t.db, {
        workspaceId: team.workspaceId,
        ownerUserId: team.owner.id,
        runtimeKind: 'openai',
        runtimeConfig: { baseUrl: talkative.url(), model: 'm', stream: false, apiKey: 'sk-x' },
      });
      const { sessionId } = await askAgent(team, team.owner, a.id);
      await runWorkerUntilDone(t, { agentId: a.id, secretKey, env: { AGENT_ENDPOINT_ALLOWLIST: '127.0.0.1' } });
      const [task] = await tasksOfAgent(t, a.id);
      expect(task.status).toBe('failed');
      expect(task.error).toBe('The model endpoint answered HTTP 500');
      expect(`${task.error} ${task.errorDetail}`).not.toContain(INTERNAL);
      const seen = await transcript(team, team.owner, sessionId);
      expect(JSON.stringify(seen)).not.toContain(INTERNAL);
      expect(seen.tasks[0].error_detail).toMatch(/answered HTTP 500 \(server_error\)/);
    } finally {
      await talkative.close();
    }
  });
});

describe('the guarded HTTP path, at connect time', () => {
  // Loaded here so the cases above still run against a build that has no such module.
  const guard = async () => {
    const [{ createGuardedFetch, BlockedEndpointError }, { parseEndpointAllowlist }] = await Promise.all([
      import('@/server/net/guarded-fetch'),
      import('@/server/net/endpoint-allowlist'),
    ]);
    return { createGuardedFetch, BlockedEndpointError, parseEndpointAllowlist };
  };

  test('a public-looking name whose DNS answer points inside (rebinding, metadata, mapped forms) is never dialled', async () => {
    const { createGuardedFetch, BlockedEndpointError, parseEndpointAllowlist } = await guard();
    const answers: Record<string, string> = {
      'rebind.attacker.example': '127.0.0.1',
      'metadata.attacker.example': '169.254.169.254',
      'mapped.attacker.example': '::ffff:127.0.0.1',
      'cgnat.attacker.example': '100.64.1.1',
      'ula.attacker.example': 'fd12:3456::1',
    };
    const lookups: string[] = [];
    const fetch = createGuardedFetch({
      allowlist: parseEndpointAllowlist(''),
      resolve: (hostname, _options, callback) => {
        lookups.push(hostname);
        const address = answers[hostname];
        callback(null, address ? [{ address, family: address.includes(':') ? 6 : 4 }] : []);
      },
    });
    try {
      const port = new URL(internal.url()).port;
      for (const host of Object.keys(answers)) {
        const err = await fetch(`http://${host}:${port}/v1/chat/completions`, { method: 'POST', body: '{}' }).catch((e: unknown) => e);
        expect(err, host).toBeInstanceOf(BlockedEndpointError);
      }
      // Resolved when connecting, on the very answer used to dial.
      expect(lookups).toEqual(Object.keys(answers));
      expect(internal.requests).toHaveLength(0);
    } finally {
      await fetch.close();
    }
  });

  test('an allowlisted host name may resolve inside; other names may not', async () => {
    const { createGuardedFetch, BlockedEndpointError, parseEndpointAllowlist } = await guard();
    const fetch = createGuardedFetch({
      allowlist: parseEndpointAllowlist('models.internal'),
      resolve: (_hostname, _options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]),
    });
    try {
      const port = new URL(internal.url()).port;
      const ok = await fetch(`http://models.internal:${port}/v1/chat/completions`, { method: 'POST', body: '{}' });
      expect(ok.status).toBe(200);
      await ok.text();
      expect(internal.requests).toHaveLength(1);
      const err = await fetch(`http://other.internal:${port}/v1/chat/completions`, { method: 'POST', body: '{}' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BlockedEndpointError);
      expect(internal.requests).toHaveLength(1);
    } finally {
      internal.requests.length = 0;
      await fetch.close();
    }
  });
});
