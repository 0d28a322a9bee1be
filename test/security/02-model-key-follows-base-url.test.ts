// Attack: someone who may edit an agent points its base URL at their own server without giving a
// key, hoping the owner's stored key follows as `Authorization: Bearer`. A stored key belongs to the
// origin it was entered for: changing the origin without a new key is refused (422, nothing
// changes), and a key moved to another origin behind the API's back refuses to open in the worker.
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as agents from '@/app/api/workspaces/[id]/agents/route';
import * as agentOne from '@/app/api/workspaces/[id]/agents/[agentId]/route';
import { agent } from '@/server/db/schema';
import { call } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';
import { askAgent, configure, createTeam, newSecretKey, runWorkerUntilDone, startModelServer, tasksOfAgent, type ModelServer, type Team } from './agent-endpoints';

const OWNER_KEY = 'sk-owner-7d41c2';
const ALLOW_LOOPBACK = { AGENT_ENDPOINT_ALLOWLIST: '127.0.0.1' };
let t: TestDatabase;
let team: Team;
let provider: ModelServer;
let attacker: ModelServer;
const secretKey = newSecretKey();

beforeAll(async () => {
  t = await useTestDatabase();
  configure({ LARK_SECRET_KEY: secretKey.toString('base64'), ...ALLOW_LOOPBACK });
  team = await createTeam(t, 'key-follow-team');
  // Same host, another port: another origin, as far as a browser or a key is concerned.
  provider = await startModelServer({ reply: 'from the provider' });
  attacker = await startModelServer({ reply: 'from the attacker' });
});
afterAll(async () => {
  await provider?.close();
  await attacker?.close();
  await t?.drop();
});

async function ownersAgent(): Promise<string> {
  const created = await call(agents.POST, 'POST', {
    token: team.owner.token,
    params: { id: team.workspaceId },
    body: { name: 'Paid', avatar_color: '#123456', runtime: { kind: 'openai', base_url: provider.url(), model: 'm', api_key: OWNER_KEY } },
  });
  expect(created.status).toBe(201);
  return created.body.agent.id as string;
}

const keysSeenBy = (server: ModelServer) => server.requests.map((r) => r.authorization);

describe('changing the base URL through the API', () => {
  test('to another origin without a key is refused, changes nothing, and the key is never sent there', async () => {
    const agentId = await ownersAgent();
    const p = { id: team.workspaceId, agentId };
    const [before] = await t.db.select().from(agent).where(eq(agent.id, agentId));

    const moved = await call(agentOne.PATCH, 'PATCH', {
      token: team.admin.token,
      params: p,
      body: { name: 'Hijacked', runtime: { kind: 'openai', base_url: attacker.url(), model: 'm' } },
    });
    expect(moved.status).toBe(422);
    expect(moved.body.error.fields['runtime.api_key']).toMatch(/different server/);
    const [after] = await t.db.select().from(agent).where(eq(agent.id, agentId));
    expect(after.name).toBe(before.name);
    expect(after.runtimeConfig).toEqual(before.runtimeConfig);

    await askAgent(team, team.owner, agentId);
    await runWorkerUntilDone(t, { agentId, secretKey, env: ALLOW_LOOPBACK });
    expect(keysSeenBy(attacker)).not.toContain(`Bearer ${OWNER_KEY}`);
    expect(keysSeenBy(provider)).toContain(`Bearer ${OWNER_KEY}`);
  });

  test('to another origin with a new key sends only the new key there', async () => {
    const agentId = await ownersAgent();
    const moved = await call(agentOne.PATCH, 'PATCH', {
      token: team.admin.token,
      params: { id: team.workspaceId, agentId },
      body: { runtime: { kind: 'openai', base_url: attacker.url(), model: 'm', api_key: 'sk-their-own' } },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.agent.runtime).toMatchObject({ base_url: attacker.url(), has_api_key: true });
    attacker.requests.length = 0;
    await askAgent(team, team.owner, agentId);
    await runWorkerUntilDone(t, { agentId, secretKey, env: ALLOW_LOOPBACK });
    expect(keysSeenBy(attacker)).toEqual(['Bearer sk-their-own']);
  });

  test('within the same origin (another path or model) keeps the key', async () => {
    const agentId = await ownersAgent();
    const kept = await call(agentOne.PATCH, 'PATCH', {
      token: team.admin.token,
      params: { id: team.workspaceId, agentId },
      body: { runtime: { kind: 'openai', base_url: provider.url('/v1/'), model: 'm2' } },
    });
    expect(kept.status).toBe(200);
    expect(kept.body.agent.runtime).toMatchObject({ model: 'm2', has_api_key: true });
  });
});

test('a base URL changed behind the API (in the database) does not take the sealed key with it', async () => {
  const agentId = await ownersAgent();
  await t.db
    .update(agent)
    .set({ runtimeConfig: sql`jsonb_set(${agent.runtimeConfig}, '{baseUrl}', to_jsonb(${attacker.url()}::text))` })
    .where(eq(agent.id, agentId));
  attacker.requests.length = 0;
  await askAgent(team, team.owner, agentId);
  await runWorkerUntilDone(t, { agentId, secretKey, env: ALLOW_LOOPBACK });
  expect(keysSeenBy(attacker)).not.toContain(`Bearer ${OWNER_KEY}`);
  const [task] = await tasksOfAgent(t, agentId);
  expect(task.status).toBe('failed');
  expect(task.error).toBe('The model API key cannot be read on this server');
});
