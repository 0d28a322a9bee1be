import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { z } from 'zod';
import { seedUser } from '@/test/seed';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { SecretBox } from '@/server/crypto/secretbox';
import { EMPTY_ALLOWLIST } from '@/server/net/endpoint-allowlist';
import { agentView, createAgent, listAgents } from '@/server/services/agents';
import { createChatSession, getChatSessionOrThrow, listChatMessages, sendChatMessage, sessionView } from '@/server/services/chat';
import { createIssue, issueView } from '@/server/services/issues';
import { listMembers, memberView } from '@/server/services/members';
import { createWorkspace, workspaceView } from '@/server/services/workspaces';
import { agentSchema } from './agents';
import { chatSessionSchema, messagesResponse, sendMessageResponse } from './chat';
import { errorCodeForStatus } from './errors';
import { issueSchema } from './issues';
import { memberSchema } from './members';
import { workspaceSchema } from './workspaces';

/**
 * What the server builds is exactly what the schema describes once it is JSON: parsing strips
 * fields the schema does not name and rejects wrong types, so any drift shows as a difference.
 */
function expectServerShape<S extends z.ZodType>(schema: S, payload: z.input<S>) {
  expect(schema.parse(payload)).toEqual(JSON.parse(JSON.stringify(payload)));
}

let t: TestDatabase;
let owner: { id: string };
let wsId: string;
let agentId: string;
let sessionId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  owner = await seedUser(t.db, 'Contract Owner');
  const ws = await createWorkspace(t.db, { name: 'Contract', slug: 'contract-team', issue_prefix: 'CON', ownerUserId: owner.id });
  wsId = ws.id;
  const agent = await createAgent(
    t.db,
    {
      workspaceId: wsId,
      ownerUserId: owner.id,
      ownerRole: 'owner',
      name: 'Ada',
      avatar_color: '#336699',
      runtime: { kind: 'openai', base_url: 'https://models.example.com/v1', model: 'm', api_key: 'sk-test', stream: true },
    },
    { box: new SecretBox(randomBytes(32)), allowlist: EMPTY_ALLOWLIST },
  );
  agentId = agent.id;
  const session = await createChatSession(t.db, { workspaceId: wsId, creatorUserId: owner.id, agentId });
  sessionId = session.session.id;
});
afterAll(async () => t?.drop());

describe('service views match the contract', () => {
  test('workspace', async () => {
    const ws = await createWorkspace(t.db, { name: 'Other', slug: 'contract-other', issue_prefix: 'OTH', ownerUserId: owner.id });
    expectServerShape(workspaceSchema, workspaceView({ workspace: ws, role: 'owner' }));
  });

  test('agent, with the API key left out', async () => {
    const [agent] = await listAgents(t.db, { workspaceId: wsId, includeArchived: true });
    const view = agentView(agent, { userId: owner.id, role: 'owner' });
    expectServerShape(agentSchema, view);
    expect(JSON.stringify(view)).not.toContain('sk-test');
  });

  test('an echo agent with a simulated latency', async () => {
    const echo = await createAgent(
      t.db,
      { workspaceId: wsId, ownerUserId: owner.id, ownerRole: 'owner', name: 'Slow', avatar_color: '#336699', runtime: { kind: 'echo', delay_ms: 2000 } },
      { box: null, allowlist: EMPTY_ALLOWLIST },
    );
    const view = agentView(echo, { userId: owner.id, role: 'owner' });
    expectServerShape(agentSchema, view);
    expect(view.runtime).toEqual({ kind: 'echo', delay_ms: 2000 });
  });

  test('chat session, sent message and transcript', async () => {
    expectServerShape(chatSessionSchema, sessionView(await getChatSessionOrThrow(t.db, { workspaceId: wsId, sessionId, viewerUserId: owner.id })));
    const sent = await sendChatMessage(t.db, { workspaceId: wsId, sessionId, authorUserId: owner.id, authorName: 'Contract Owner', content: 'hello' });
    expectServerShape(sendMessageResponse, sent);
    expectServerShape(messagesResponse, await listChatMessages(t.db, { workspaceId: wsId, sessionId }));
  });

  test('issue', async () => {
    const issue = await createIssue(t.db, { workspaceId: wsId, creatorUserId: owner.id, title: 'Contract', originType: 'web' });
    expectServerShape(issueSchema, issueView(issue));
  });

  test('member', async () => {
    const [m] = await listMembers(t.db, wsId);
    expectServerShape(memberSchema, memberView(m));
  });
});

test('a status without an error body reads as its generic code', () => {
  expect(errorCodeForStatus(409)).toBe('conflict');
  expect(errorCodeForStatus(422)).toBe('validation_failed');
  expect(errorCodeForStatus(418)).toBe('internal');
});
