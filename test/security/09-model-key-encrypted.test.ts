// Attack: read model API keys from a database dump, a backup or a replica, or from any API answer.
// Keys are sealed with the server's secret key (the Lark secret box) before they are stored, are
// write-only in the API (only `has_api_key`), a server without LARK_SECRET_KEY refuses to store one
// (503 naming the variable) rather than keep it in plaintext, and keys stored in plaintext by earlier
// versions are sealed by the worker when it starts.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as agents from '@/app/api/workspaces/[id]/agents/route';
import * as agentOne from '@/app/api/workspaces/[id]/agents/[agentId]/route';
import { agent } from '@/server/db/schema';
import { call } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';
import { seedAgent } from '../seed';
import { askAgent, configure, createTeam, newSecretKey, runWorkerUntilDone, startModelServer, tasksOfAgent, type ModelServer, type Team } from './agent-endpoints';

const KEY = 'sk-live-9c1e55aa';
let t: TestDatabase;
let team: Team;
let model: ModelServer;
const secretKey = newSecretKey();

beforeAll(async () => {
  t = await useTestDatabase();
  configure({ LARK_SECRET_KEY: secretKey.toString('base64'), AGENT_ENDPOINT_ALLOWLIST: '127.0.0.1' });
  team = await createTeam(t, 'sealed-keys-team');
  model = await startModelServer();
});
afterAll(async () => {
  await model?.close();
  await t?.drop();
});

/** The agent's runtime column as a dump of the database would show it. */
async function storedRuntime(agentId: string): Promise<string> {
  const { rows } = await t.pool.query('SELECT runtime_config::text AS config FROM agent WHERE id = $1', [agentId]);
  return rows[0].config as string;
}

describe('a key saved through the API', () => {
  test('is stored sealed, never answered back, and still reaches the model endpoint', async () => {
    const p = { id: team.workspaceId };
    const created = await call(agents.POST, 'POST', {
      token: team.owner.token,
      params: p,
      body: { name: 'Sealed', avatar_color: '#123456', runtime: { kind: 'openai', base_url: model.url(), model: 'm', api_key: KEY } },
    });
    expect(created.status).toBe(201);
    const agentId = created.body.agent.id as string;

    const stored = await storedRuntime(agentId);
    expect(stored).not.toContain(KEY);
    expect(JSON.parse(stored)).toMatchObject({ apiKeyCiphertext: expect.stringMatching(/^v1:/) });
    expect(JSON.parse(stored)).not.toHaveProperty('apiKey');

    const answers = [
      created.body,
      (await call(agents.GET, 'GET', { token: team.member.token, params: p })).body,
      (await call(agentOne.GET, 'GET', { token: team.owner.token, params: { ...p, agentId } })).body,
      (await call(agentOne.PATCH, 'PATCH', { token: team.owner.token, params: { ...p, agentId }, body: { name: 'Renamed' } })).body,
    ];
    for (const body of answers) expect(JSON.stringify(body)).not.toContain(KEY);
    expect(answers[2].agent.runtime).toEqual({ kind: 'openai', base_url: model.url(), model: 'm', stream: false, has_api_key: true });

    await askAgent(team, team.owner, agentId);
    await runWorkerUntilDone(t, { agentId, secretKey, env: { AGENT_ENDPOINT_ALLOWLIST: '127.0.0.1' } });
    expect((await tasksOfAgent(t, agentId))[0].status).toBe('completed');
    expect(model.requests.at(-1)?.authorization).toBe(`Bearer ${KEY}`);
  });

  test('is refused with 503 naming LARK_SECRET_KEY when the server has none, and nothing is stored', async () => {
    configure({ LARK_SECRET_KEY: undefined });
    try {
      const before = (await t.db.select().from(agent).where(eq(agent.workspaceId, team.workspaceId))).length;
      const res = await call(agents.POST, 'POST', {
        token: team.owner.token,
        params: { id: team.workspaceId },
        body: { name: 'Plain', avatar_color: '#123456', runtime: { kind: 'openai', base_url: model.url(), model: 'm', api_key: KEY } },
      });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('not_configured');
      expect(res.body.error.message).toContain('LARK_SECRET_KEY');
      expect((await t.db.select().from(agent).where(eq(agent.workspaceId, team.workspaceId))).length).toBe(before);
    } finally {
      configure({ LARK_SECRET_KEY: secretKey.toString('base64') });
    }
  });
});

test('a key stored in plaintext by an earlier version is sealed when the worker starts, and keeps working', async () => {
  const legacy = await seedAgent(t.db, {
    workspaceId: team.workspaceId,
    ownerUserId: team.owner.id,
    runtimeKind: 'openai',
    runtimeConfig: { baseUrl: model.url(), model: 'm', stream: false, apiKey: 'sk-legacy-plain' },
  });
  expect(await storedRuntime(legacy.id)).toContain('sk-legacy-plain');
  await askAgent(team, team.owner, legacy.id);
  await runWorkerUntilDone(t, { agentId: legacy.id, secretKey, env: { AGENT_ENDPOINT_ALLOWLIST: '127.0.0.1' } });
  expect(await storedRuntime(legacy.id)).not.toContain('sk-legacy-plain');
  expect((await tasksOfAgent(t, legacy.id))[0].status).toBe('completed');
  expect(model.requests.at(-1)?.authorization).toBe('Bearer sk-legacy-plain');
});
