import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { z } from 'zod';
import { call, signUp, type TestUser } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';
import * as me from '@/app/api/me/route';
import * as workspaces from '@/app/api/workspaces/route';
import * as bySlug from '@/app/api/workspaces/by-slug/[slug]/route';
import * as members from '@/app/api/workspaces/[id]/members/route';
import * as agents from '@/app/api/workspaces/[id]/agents/route';
import * as sessions from '@/app/api/workspaces/[id]/chat/sessions/route';
import * as messages from '@/app/api/workspaces/[id]/chat/sessions/[sessionId]/messages/route';
import * as issues from '@/app/api/workspaces/[id]/issues/route';
import { agentResponse, agentsResponse } from '@/server/contract/agents';
import { messagesResponse, sendMessageResponse, sessionResponse, sessionsResponse } from '@/server/contract/chat';
import { errorBodySchema } from '@/server/contract/errors';
import { issueResponse, issuesResponse } from '@/server/contract/issues';
import { meResponse } from '@/server/contract/me';
import { membersResponse } from '@/server/contract/members';
import { workspaceResponse } from '@/server/contract/workspaces';

/**
 * A body as the client receives it is exactly the schema's output side: encoding rejects wrong
 * types and drops fields the schema does not name, so anything extra or missing shows as a difference.
 */
function expectContract(schema: z.ZodType, body: unknown) {
  expect(JSON.parse(JSON.stringify(schema.encode(body)))).toEqual(body);
}

let t: TestDatabase;
let owner: TestUser;
let wsId: string;
let agentId: string;
let sessionId: string;

beforeAll(async () => {
  t = await useTestDatabase();
  // Model keys are stored sealed: saving one needs the server's secret key.
  process.env.LARK_SECRET_KEY ??= randomBytes(32).toString('base64');
  owner = await signUp('Contract Owner');
  const created = await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Contract', slug: 'contract-team', issue_prefix: 'CON' } });
  expectContract(workspaceResponse, created.body);
  wsId = created.body.workspace.id;
  const agent = await call(agents.POST, 'POST', {
    token: owner.token,
    params: { id: wsId },
    body: { name: 'Ada', avatar_color: '#336699', runtime: { kind: 'openai', base_url: 'https://models.example.com/v1', model: 'm', api_key: 'sk-test' } },
  });
  expectContract(agentResponse, agent.body);
  agentId = agent.body.agent.id;
  const session = await call(sessions.POST, 'POST', { token: owner.token, params: { id: wsId }, body: { agent_id: agentId } });
  expectContract(sessionResponse, session.body);
  sessionId = session.body.session.id;
  const sent = await call(messages.POST, 'POST', { token: owner.token, params: { id: wsId, sessionId }, body: { content: 'hello' } });
  expectContract(sendMessageResponse, sent.body);
  const issue = await call(issues.POST, 'POST', { token: owner.token, params: { id: wsId }, body: { title: 'Contract' } });
  expectContract(issueResponse, issue.body);
});
afterAll(async () => t?.drop());

test.each([
  { name: 'GET /api/me', schema: meResponse, get: () => call(me.GET, 'GET', { token: owner.token }) },
  { name: 'GET by slug', schema: workspaceResponse, get: () => call(bySlug.GET, 'GET', { token: owner.token, params: { slug: 'contract-team' } }) },
  { name: 'GET members', schema: membersResponse, get: () => call(members.GET, 'GET', { token: owner.token, params: { id: wsId } }) },
  { name: 'GET agents', schema: agentsResponse, get: () => call(agents.GET, 'GET', { token: owner.token, params: { id: wsId } }) },
  { name: 'GET sessions', schema: sessionsResponse, get: () => call(sessions.GET, 'GET', { token: owner.token, params: { id: wsId } }) },
  { name: 'GET messages', schema: messagesResponse, get: () => call(messages.GET, 'GET', { token: owner.token, params: { id: wsId, sessionId } }) },
  { name: 'GET issues', schema: issuesResponse, get: () => call(issues.GET, 'GET', { token: owner.token, params: { id: wsId } }) },
])('$name answers in its contract shape', async ({ schema, get }) => {
  const res = await get();
  expect(res.status).toBe(200);
  expectContract(schema, res.body);
});

test('errors answer in the contract error shape', async () => {
  const res = await call(agents.POST, 'POST', { token: owner.token, params: { id: wsId }, body: { name: '', avatar_color: 'red' } });
  expect(res.status).toBe(422);
  expect(errorBodySchema.parse(res.body)).toEqual(res.body);
});
