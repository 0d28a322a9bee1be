import { randomBytes } from 'node:crypto';
import { SecretBox } from '@/server/crypto/secretbox';
import type { Db } from '@/server/db/client';
import { larkInstallation } from '@/server/db/schema';
import type { LarkIntegration } from '@/server/lark/integration';
import { startSimulator } from '../../simulator/server';

export type Sim = Awaited<ReturnType<typeof startSimulator>> & {
  control: <T = any>(method: string, path: string, body?: unknown) => Promise<T>; // eslint-disable-line @typescript-eslint/no-explicit-any
};

/** Starts the Lark simulator in-process and wraps its control API. */
export async function startSim(opts: Parameters<typeof startSimulator>[0] = {}): Promise<Sim> {
  const sim = await startSimulator({ port: 0, ...opts });
  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${sim.url}/_control${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`control ${method} ${path} -> ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return Object.assign(sim, { control });
}

export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** What the worker needs to reach this simulator, with a fresh sealing key unless one is given. */
export function simIntegration(sim: Sim, box: SecretBox = new SecretBox(randomBytes(32))): LarkIntegration & { box: SecretBox } {
  return { configured: true, box, hosts: { openBaseUrl: `${sim.url}/{region}`, accountsBaseUrl: `${sim.url}/{region}` }, httpTimeoutMs: 5000 };
}

export type SimBot = { appId: string; appSecret: string; installation: typeof larkInstallation.$inferSelect };

/** Creates a bot in the simulator and stores it as an active installation of the agent, as a scan would. */
export async function installSimBot(
  db: Db,
  sim: Sim,
  box: SecretBox,
  input: {
    tenantKey: string;
    workspaceId: string;
    agentId: string;
    installerUserId: string;
    name?: string;
    app?: { app_id: string; app_secret: string };
    /** The tenant's brand (default feishu). */
    region?: 'feishu' | 'lark';
  },
): Promise<SimBot> {
  const app = input.app ?? (await sim.control<{ app_id: string; app_secret: string }>('POST', '/apps', { tenant_key: input.tenantKey, name: input.name ?? `Bot ${randomBytes(2).toString('hex')}` }));
  const info = await sim.control<{ bot_open_id: string; bot_union_id: string }>('GET', `/apps/${app.app_id}`);
  const [installation] = await db
    .insert(larkInstallation)
    .values({
      workspaceId: input.workspaceId,
      agentId: input.agentId,
      appId: app.app_id,
      appSecretCiphertext: box.seal(app.app_secret),
      botOpenId: info.bot_open_id,
      botUnionId: info.bot_union_id,
      installerUserId: input.installerUserId,
      region: input.region ?? 'feishu',
    })
    .returning();
  return { appId: app.app_id, appSecret: app.app_secret, installation };
}

/** The open id a bot sees for a simulator user. */
export async function openIdOf(sim: Sim, appId: string, userId: string): Promise<string> {
  return (await sim.control<{ open_id: string }>('GET', `/apps/${appId}/open-id?user_id=${userId}`)).open_id;
}
