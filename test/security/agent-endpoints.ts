// Shared setup for the attacks on agents' model endpoints and keys: a workspace with an owner, an
// admin and a member, model servers that record what reaches them, and the real worker.
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import * as workspaces from '@/app/api/workspaces/route';
import * as sessions from '@/app/api/workspaces/[id]/chat/sessions/route';
import * as messages from '@/app/api/workspaces/[id]/chat/sessions/[sessionId]/messages/route';
import { SecretBox } from '@/server/crypto/secretbox';
import { agentTask, member } from '@/server/db/schema';
import { parseEnv, resetEnvForTests } from '@/server/env';
import { startWorker } from '@/worker/worker';
import { call, signUp, type TestUser } from '../api';
import type { TestDatabase } from '../db';

export type Team = { workspaceId: string; owner: TestUser; admin: TestUser; member: TestUser };

/** Sets the server's configuration for the rest of the file (env is read once and cached). */
export function configure(values: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  resetEnvForTests();
}

export const newSecretKey = () => randomBytes(32);

/** A workspace whose admin and member are added directly, so the setup depends on no invitation flow. */
export async function createTeam(t: TestDatabase, slug: string): Promise<Team> {
  const owner = await signUp('Owner');
  const admin = await signUp('Admin');
  const plain = await signUp('Member');
  const created = await call(workspaces.POST, 'POST', { token: owner.token, body: { name: slug, slug, issue_prefix: 'SEC' } });
  if (created.status !== 201) throw new Error(`workspace: ${created.status} ${JSON.stringify(created.body)}`);
  const workspaceId = created.body.workspace.id as string;
  await t.db.insert(member).values([
    { workspaceId, userId: admin.id, role: 'admin' },
    { workspaceId, userId: plain.id, role: 'member' },
  ]);
  return { workspaceId, owner, admin, member: plain };
}

export type ModelRequest = { path: string; authorization: string | undefined };
export type ModelServer = { url: (path?: string) => string; origin: string; requests: ModelRequest[]; close: () => Promise<void> };

/**
 * An OpenAI-compatible endpoint on loopback. By default it answers with `reply`; `respond` can
 * answer anything else (an error body, a redirect).
 */
export async function startModelServer(
  opts: { host?: string; reply?: string; respond?: (req: http.IncomingMessage, res: http.ServerResponse) => void } = {},
): Promise<ModelServer> {
  const requests: ModelRequest[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
      if (opts.respond) return opts.respond(req, res);
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: 'c1',
          object: 'chat.completion',
          created: 1,
          model: 'm',
          choices: [{ index: 0, message: { role: 'assistant', content: opts.reply ?? 'model reply' }, finish_reason: 'stop' }],
        }),
      );
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    origin,
    url: (path = '/v1') => `${origin}${path}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Opens a chat with the agent and sends one message as `user`, which queues one task. */
export async function askAgent(team: Team, user: TestUser, agentId: string, content = 'hello'): Promise<{ sessionId: string }> {
  const session = await call(sessions.POST, 'POST', { token: user.token, params: { id: team.workspaceId }, body: { agent_id: agentId } });
  if (session.status !== 201) throw new Error(`session: ${session.status} ${JSON.stringify(session.body)}`);
  const sessionId = session.body.session.id as string;
  const sent = await call(messages.POST, 'POST', { token: user.token, params: { id: team.workspaceId, sessionId }, body: { content } });
  if (sent.status !== 201) throw new Error(`message: ${sent.status} ${JSON.stringify(sent.body)}`);
  return { sessionId };
}

/** The transcript as `user` sees it through the API (admins also see each failed task's detail). */
export async function transcript(team: Team, user: TestUser, sessionId: string) {
  const res = await call(messages.GET, 'GET', { token: user.token, params: { id: team.workspaceId, sessionId } });
  if (res.status !== 200) throw new Error(`transcript: ${res.status}`);
  return res.body as { messages: Array<{ role: string; content: string }>; tasks: Array<{ status: string; error: string | null; error_detail: string | null }> };
}

export async function tasksOfAgent(t: TestDatabase, agentId: string) {
  return t.db.select().from(agentTask).where(eq(agentTask.agentId, agentId));
}

async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

/**
 * Runs the real worker (as `npm run worker` builds it, with this configuration) until every task of
 * the agent has finished, then stops it.
 */
export async function runWorkerUntilDone(t: TestDatabase, input: { agentId: string; secretKey?: Buffer; env?: Record<string, string> }): Promise<void> {
  const config = parseEnv({
    ...process.env,
    DATABASE_URL: t.url,
    WORKER_POLL_INTERVAL_MS: '100',
    AGENT_RUNTIME_TIMEOUT_MS: '5000',
    WORKER_HOST: '127.0.0.1',
    LARK_SECRET_KEY: input.secretKey?.toString('base64') ?? '',
    ...input.env,
  });
  const worker = await startWorker({
    config,
    // The Lark engine stays off; the box is the one LARK_SECRET_KEY gives the worker.
    integration: { configured: false, box: input.secretKey ? new SecretBox(input.secretKey) : null, hosts: {}, httpTimeoutMs: 1000 },
    nodeId: `security-${randomUUID().slice(0, 8)}`,
    logger: pino({ level: 'silent' }),
    opsPort: 0,
  });
  try {
    await waitUntil(async () => {
      const tasks = await tasksOfAgent(t, input.agentId);
      return tasks.length > 0 && tasks.every((task) => task.status === 'completed' || task.status === 'failed');
    }, 20_000);
  } finally {
    await worker.stop();
  }
}
