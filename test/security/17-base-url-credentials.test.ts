// Attack: read credentials embedded in an agent's base URL (`https://user:pass@host`), which every
// member can see in the agent's settings and which failed runs echoed in their errors. Such a URL is
// refused with a 422 that does not repeat it; one stored earlier is shown and reported without its
// credentials (and without query or fragment).
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as agents from '@/app/api/workspaces/[id]/agents/route';
import * as agentOne from '@/app/api/workspaces/[id]/agents/[agentId]/route';
import { agent } from '@/server/db/schema';
import { call } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';
import { seedAgent } from '../seed';
import { askAgent, configure, createTeam, newSecretKey, runWorkerUntilDone, tasksOfAgent, transcript, type Team } from './agent-endpoints';

const PASSWORD = 'pa55-4f0e91';
let t: TestDatabase;
let team: Team;
const secretKey = newSecretKey();

beforeAll(async () => {
  t = await useTestDatabase();
  configure({ LARK_SECRET_KEY: secretKey.toString('base64'), AGENT_ENDPOINT_ALLOWLIST: '127.0.0.1' });
  team = await createTeam(t, 'credentials-team');
});
afterAll(async () => t?.drop());

describe('saving a base URL with credentials', () => {
  test('is refused with a clear 422 that does not echo it, and nothing is stored', async () => {
    const p = { id: team.workspaceId };
    const before = (await t.db.select().from(agent).where(eq(agent.workspaceId, team.workspaceId))).length;
    for (const base_url of [`https://bob:${PASSWORD}@models.example.com/v1`, `https://${PASSWORD}@models.example.com/v1`, `https://models.example.com/v1?key=${PASSWORD}`]) {
      const res = await call(agents.POST, 'POST', {
        token: team.owner.token,
        params: p,
        body: { name: 'Creds', avatar_color: '#123456', runtime: { kind: 'openai', base_url, model: 'm', api_key: 'sk-x' } },
      });
      expect(res.status, base_url).toBe(422);
      expect(res.body.error.fields['runtime.base_url'], base_url).toMatch(/user name or password|query string/);
      expect(JSON.stringify(res.body)).not.toContain(PASSWORD);
    }
    expect((await t.db.select().from(agent).where(eq(agent.workspaceId, team.workspaceId))).length).toBe(before);
  });

  test('is refused on update, and the agent keeps its base URL', async () => {
    const created = await call(agents.POST, 'POST', {
      token: team.owner.token,
      params: { id: team.workspaceId },
      body: { name: 'Clean', avatar_color: '#123456', runtime: { kind: 'openai', base_url: 'https://models.example.com/v1', model: 'm', api_key: 'sk-x' } },
    });
    expect(created.status).toBe(201);
    const res = await call(agentOne.PATCH, 'PATCH', {
      token: team.admin.token,
      params: { id: team.workspaceId, agentId: created.body.agent.id },
      body: { runtime: { kind: 'openai', base_url: `https://bob:${PASSWORD}@models.example.com/v1`, model: 'm' } },
    });
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).not.toContain(PASSWORD);
    const [row] = await t.db.select().from(agent).where(eq(agent.id, created.body.agent.id));
    expect(JSON.stringify(row.runtimeConfig)).not.toContain(PASSWORD);
  });
});

test('a base URL stored with credentials earlier is never shown or reported with them', async () => {
  // Port 1 on loopback: nothing listens, so the run fails and reports the endpoint it tried.
  const legacy = await seedAgent(t.db, {
    workspaceId: team.workspaceId,
    ownerUserId: team.owner.id,
    runtimeKind: 'openai',
    runtimeConfig: { baseUrl: `http://bob:${PASSWORD}@127.0.0.1:1/v1`, model: 'm', stream: false, apiKey: 'sk-x' },
  });
  const p = { id: team.workspaceId, agentId: legacy.id };
  const asMember = await call(agentOne.GET, 'GET', { token: team.member.token, params: p });
  expect(asMember.status).toBe(200);
  expect(asMember.body.agent.runtime.base_url).toBe('http://127.0.0.1:1/v1');
  expect(JSON.stringify((await call(agents.GET, 'GET', { token: team.member.token, params: { id: team.workspaceId } })).body)).not.toContain(PASSWORD);

  const { sessionId } = await askAgent(team, team.owner, legacy.id);
  await runWorkerUntilDone(t, { agentId: legacy.id, secretKey, env: { AGENT_ENDPOINT_ALLOWLIST: '127.0.0.1' } });
  const [task] = await tasksOfAgent(t, legacy.id);
  expect(task.status).toBe('failed');
  expect(`${task.error} ${task.errorDetail}`).not.toContain(PASSWORD);
  expect(JSON.stringify(await transcript(team, team.owner, sessionId))).not.toContain(PASSWORD);
});
