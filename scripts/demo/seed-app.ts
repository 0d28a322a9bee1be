import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { HttpError, requestJson, type HttpFetch } from './http';

// The demo's side of the app: everything is created through the app's own HTTP API, and found
// again (never created twice) on later runs.

export const demoOwner = { email: 'demo@larkspur.local', name: 'Demo Owner' };
export const demoWorkspace = { name: 'Demo', slug: 'demo', issue_prefix: 'MUL' };
export const demoAgents = [
  { name: 'Ada', avatar_color: '#8e4ec6' },
  { name: 'Linus', avatar_color: '#12a594' },
] as const;

export type DemoCredentials = { email: string; password: string };
export type DemoOwner = DemoCredentials & { token: string };
export type DemoWorkspace = { id: string; name: string; slug: string; issue_prefix: string };
export type DemoAgent = { id: string; name: string; avatar_color: string; archived_at: string | null };

export type AppTarget = {
  send: HttpFetch;
  /** The app's public URL: better-auth only accepts sign-ups and sign-ins from its own origin. */
  appUrl: string;
};

async function readCredentials(file: string): Promise<DemoCredentials | undefined> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const parsed = JSON.parse(text) as Partial<DemoCredentials>;
  if (typeof parsed.email !== 'string' || typeof parsed.password !== 'string') throw new Error(`${file} is not a demo credentials file`);
  return { email: parsed.email, password: parsed.password };
}

async function signIn(app: AppTarget, body: DemoCredentials): Promise<string> {
  const { headers } = await requestJson(app.send, '/api/auth/sign-in/email', { body, headers: { origin: new URL(app.appUrl).origin } });
  const token = headers.get('set-auth-token');
  if (!token) throw new Error('sign-in succeeded without a bearer token (set-auth-token)');
  return token;
}

/** Sign-up starts no session and answers alike for a taken email; signing in tells them apart. */
async function signUp(app: AppTarget, body: DemoCredentials & { name: string }): Promise<void> {
  await requestJson(app.send, '/api/auth/sign-up/email', { body, headers: { origin: new URL(app.appUrl).origin } });
}

/**
 * Signs the demo owner in, or signs them up with a generated password on the first run. The
 * password is kept in `credentialsFile` so it can be printed on every run.
 */
export async function ensureOwner(app: AppTarget, credentialsFile: string): Promise<DemoOwner> {
  const saved = await readCredentials(credentialsFile);
  if (saved) {
    try {
      return { ...saved, token: await signIn(app, { email: saved.email, password: saved.password }) };
    } catch (error) {
      if (error instanceof HttpError && error.status === 401) {
        throw new Error(`The saved demo password (${credentialsFile}) no longer signs in; start over with \`npm run demo -- --reset\``, { cause: error });
      }
      throw error;
    }
  }
  const credentials = { email: demoOwner.email, password: randomBytes(12).toString('base64url') };
  let token: string;
  try {
    await signUp(app, { ...credentials, name: demoOwner.name });
    token = await signIn(app, credentials);
  } catch (error) {
    if (error instanceof HttpError && error.status === 401) {
      throw new Error(`${demoOwner.email} already exists but ${credentialsFile} is missing; start over with \`npm run demo -- --reset\``, { cause: error });
    }
    throw error;
  }
  await fs.mkdir(path.dirname(credentialsFile), { recursive: true });
  await fs.writeFile(credentialsFile, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return { ...credentials, token };
}

export async function ensureWorkspace(app: AppTarget, token: string): Promise<DemoWorkspace> {
  const { body } = await requestJson<{ workspaces: DemoWorkspace[] }>(app.send, '/api/me', { token });
  const existing = body.workspaces.find((w) => w.slug === demoWorkspace.slug);
  if (existing) return existing;
  const created = await requestJson<{ workspace: DemoWorkspace }>(app.send, '/api/workspaces', { token, body: demoWorkspace });
  // The walkthrough is written in English; on 'auto' the demo's Feishu bot would answer in Chinese.
  await requestJson(app.send, `/api/workspaces/${created.body.workspace.id}`, { token, method: 'PATCH', body: { lark_locale: 'en' } });
  return created.body.workspace;
}

/** Ada and Linus with the echo runtime. An agent archived by hand stays archived, not duplicated. */
export async function ensureAgents(app: AppTarget, token: string, workspaceId: string): Promise<DemoAgent[]> {
  const base = `/api/workspaces/${workspaceId}/agents`;
  const { body } = await requestJson<{ agents: DemoAgent[] }>(app.send, `${base}?include_archived=1`, { token });
  const agents: DemoAgent[] = [];
  for (const wanted of demoAgents) {
    const existing = body.agents.find((a) => a.name === wanted.name);
    if (existing) {
      agents.push(existing);
      continue;
    }
    const created = await requestJson<{ agent: DemoAgent }>(app.send, base, { token, body: { ...wanted, runtime: { kind: 'echo' } } });
    agents.push(created.body.agent);
  }
  return agents;
}
