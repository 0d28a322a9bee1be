// The Lark simulator as its own process (`simulator/main.ts`, Lark's defaults: ACK within 3 s, four
// sends per event, PingInterval 120 s), driven only through its documented control API.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import { repoRoot } from '../worker-process';
import { withTimeout } from './timing';

export type SimDelivery = {
  event_id: string;
  message_id: string;
  app_id: string;
  im_message_id: string | null;
  attempts: number;
  acks: Array<{ code: number | null; at: number }>;
  status: 'pending' | 'acked' | 'failed';
  created_at: number;
};

export type SimChatMessage = {
  message_id: string;
  sender: { type: 'user' | 'app'; id: string };
  msg_type: string;
  content: unknown;
  create_time: number | string;
};

export type SimFault =
  | { kind: 'rest_error'; path: string; code: number; http_status?: number; msg?: string; count?: number; app_id?: string }
  | { kind: 'rest_delay'; path: string; ms: number; count?: number; app_id?: string }
  | { kind: 'drop_connections' | 'silent_connection' | 'expire_tokens'; app_id?: string }
  | { kind: 'duplicate_deliveries'; count: number; app_id?: string };

const CONTROL_TIMEOUT_MS = 15_000;

export class SimControl {
  constructor(readonly url: string) {}

  private async request<T>(method: string, route: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}/_control${route}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`simulator ${method} ${route}: ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : null) as T;
  }

  createTenant(name: string) {
    return this.request<{ tenant_key: string }>('POST', '/tenants', { brand: 'feishu', name });
  }

  createUser(tenantKey: string, name: string) {
    return this.request<{ id: string }>('POST', '/users', { tenant_key: tenantKey, name });
  }

  createApp(tenantKey: string, name: string) {
    return this.request<{ app_id: string; app_secret: string }>('POST', '/apps', { tenant_key: tenantKey, name });
  }

  app(appId: string) {
    return this.request<{ bot_open_id: string; bot_union_id: string; connections: number }>('GET', `/apps/${appId}`);
  }

  async openId(appId: string, userId: string): Promise<string> {
    return (await this.request<{ open_id: string }>('GET', `/apps/${appId}/open-id?user_id=${encodeURIComponent(userId)}`)).open_id;
  }

  async p2pChat(appId: string, userId: string): Promise<string> {
    return (await this.request<{ chat_id: string }>('GET', `/p2p?app_id=${appId}&user_id=${encodeURIComponent(userId)}`)).chat_id;
  }

  /** A DM from a Lark user to a bot, as the user typing it in Lark. */
  sendDm(userId: string, appId: string, text: string) {
    return this.request<{ message_id: string; chat_id: string }>('POST', '/messages', { user_id: userId, app_id: appId, text });
  }

  async chatMessages(chatId: string): Promise<SimChatMessage[]> {
    return (await this.request<{ messages: SimChatMessage[] }>('GET', `/chats/${chatId}/messages`)).messages;
  }

  async deliveries(appId: string): Promise<SimDelivery[]> {
    return (await this.request<{ deliveries: SimDelivery[] }>('GET', `/deliveries?app_id=${appId}`)).deliveries;
  }

  addFault(fault: SimFault) {
    return this.request<{ id: string; affected?: number }>('POST', '/faults', fault);
  }

  async removeFault(id: string): Promise<void> {
    await this.request('DELETE', `/faults/${id}`);
  }

  async clearFaults(): Promise<void> {
    await this.request('DELETE', '/faults');
  }
}

export type SimulatorProcess = { url: string; control: SimControl; child: ChildProcess; stop: () => Promise<void> };

const START_TIMEOUT_MS = 60_000;
const STOP_DEADLINE_MS = 8_000;

export async function startSimulatorProcess(logPath: string): Promise<SimulatorProcess> {
  const log = await fs.open(logPath, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'simulator/main.ts'], {
    cwd: repoRoot,
    // Next's types make NODE_ENV a required key of ProcessEnv; the simulator does not read it.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, SIM_PORT: '0', SIM_HOST: '127.0.0.1' } as Record<string, string | undefined> as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', log.fd],
  });
  await log.close();
  child.on('error', () => {});
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const gone = await withTimeout(exited.then(() => true), STOP_DEADLINE_MS, false);
    if (!gone) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  try {
    const url = await withTimeout(
      new Promise<string>((resolve, reject) => {
        let seen = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          seen += chunk.toString('utf8');
          const found = /listening on (http:\/\/\S+)/.exec(seen);
          if (found) resolve(found[1]);
        });
        child.once('exit', (code, signal) => reject(new Error(`the simulator exited during start-up (${code ?? signal}): ${seen.slice(-500)}`)));
      }),
      START_TIMEOUT_MS,
      null,
    );
    if (!url) throw new Error(`the simulator did not start within ${START_TIMEOUT_MS / 1000} s`);
    // Its stdout has nothing more of interest; it is drained so the pipe never fills.
    child.stdout!.resume();
    return { url, control: new SimControl(url), child, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
