// Helpers for the simulator's own tests: a control API client and a raw event-connection client
// built on this folder's pbbp2 codec (for scenarios the official SDK cannot drive).
import { Client, DefaultCache, LoggerLevel } from '@larksuiteoapi/node-sdk';
import { WebSocket } from 'ws';
import { decodeFrame, encodeFrame, FrameMethod, headerValue, type Frame } from './frames';
import { startSimulator, type Simulator } from './server';

export type HttpResult<T = Record<string, unknown>> = { status: number; body: T; headers: Headers };

export async function request<T = Record<string, unknown>>(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
}

/** Calls `${url}/_control/...` and fails loudly on an error status. */
export function controlClient(url: string) {
  const call = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await request<T>(`${url}/_control${path}`, { method, body });
    if (res.status >= 400) throw new Error(`${method} ${path} -> ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  return {
    get: <T = Record<string, unknown>>(path: string) => call<T>('GET', path),
    post: <T = Record<string, unknown>>(path: string, body?: unknown) => call<T>('POST', path, body ?? {}),
    del: (path: string) => call('DELETE', path),
  };
}

export type Control = ReturnType<typeof controlClient>;

export type World = {
  tenantKey: string;
  userId: string;
  app: { app_id: string; app_secret: string; brand: string };
};

/** One tenant with one user and one bot. */
export async function seedWorld(control: Control, brand: 'feishu' | 'lark' = 'feishu'): Promise<World> {
  const tenant = await control.post<{ tenant_key: string }>('/tenants', { brand, name: 'Acme' });
  const user = await control.post<{ id: string }>('/users', { tenant_key: tenant.tenant_key, name: 'Ada' });
  const app = await control.post<World['app']>('/apps', { tenant_key: tenant.tenant_key, name: 'Helper' });
  return { tenantKey: tenant.tenant_key, userId: user.id, app };
}

/** A group chat of the world's user and bot (`extra` as the control API takes it, e.g. chat_mode); returns its chat_id. */
export async function groupChat(control: Control, world: World, name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const { chat_id: chatId } = await control.post<{ chat_id: string }>('/chats', {
    tenant_key: world.tenantKey,
    name,
    user_ids: [world.userId],
    app_ids: [world.app.app_id],
    ...extra,
  });
  return chatId;
}

/** Starts over from an empty simulator with seedWorld's tenant, user and bot, the bot's tenant token, and their group chat 'Team'. */
export async function seedTeamChat(url: string, control: Control): Promise<{ world: World; token: string; chatId: string }> {
  await control.post('/reset');
  const world = await seedWorld(control);
  const token = await tenantToken(url, world.app);
  return { world, token, chatId: await groupChat(control, world, 'Team') };
}

export async function tenantToken(root: string, app: { app_id: string; app_secret: string }): Promise<string> {
  const res = await request<{ tenant_access_token: string }>(`${root}/open-apis/auth/v3/tenant_access_token/internal`, {
    body: { app_id: app.app_id, app_secret: app.app_secret },
  });
  if (!res.body.tenant_access_token) throw new Error(`token: ${JSON.stringify(res.body)}`);
  return res.body.tenant_access_token;
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 8000, intervalMs = 25, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A minimal event-connection client: bootstrap, connect, collect frames, ACK on demand. */
export class RawEventClient {
  readonly frames: Frame[] = [];
  private socket?: WebSocket;
  serviceId = 0;
  /** ACK every single-frame event with this code as soon as it arrives. */
  autoAck?: number;

  constructor(
    private readonly root: string,
    private readonly app: { app_id: string; app_secret: string },
  ) {}

  static async connect(root: string, app: { app_id: string; app_secret: string }): Promise<RawEventClient> {
    const client = new RawEventClient(root, app);
    await client.open();
    return client;
  }

  async bootstrap(): Promise<string> {
    const res = await request<{ code: number; data: { URL: string } }>(`${this.root}/callback/ws/endpoint`, {
      body: { AppID: this.app.app_id, AppSecret: this.app.app_secret },
      headers: { locale: 'zh' },
    });
    if (res.body.code !== 0) throw new Error(`bootstrap: ${JSON.stringify(res.body)}`);
    return res.body.data.URL;
  }

  async open(url?: string): Promise<void> {
    const target = url ?? (await this.bootstrap());
    this.serviceId = Number(new URL(target).searchParams.get('service_id'));
    const socket = new WebSocket(target);
    socket.binaryType = 'nodebuffer';
    socket.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) return;
      const frame = decodeFrame(data);
      this.frames.push(frame);
      if (this.autoAck !== undefined && headerValue(frame, 'type') === 'event' && headerValue(frame, 'sum') === '1') {
        this.ack(frame, this.autoAck);
      }
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    this.socket = socket;
  }

  get closed(): boolean {
    return !this.socket || this.socket.readyState !== WebSocket.OPEN;
  }

  sendFrame(frame: Frame): void {
    this.socket!.send(encodeFrame(frame));
  }

  sendRaw(data: string | Buffer): void {
    this.socket!.send(data);
  }

  ping(): void {
    this.sendFrame({ SeqID: 0, LogID: 0, service: this.serviceId, method: FrameMethod.control, headers: [{ key: 'type', value: 'ping' }] });
  }

  eventFrames(): Frame[] {
    return this.frames.filter((f) => f.method === FrameMethod.data && headerValue(f, 'type') === 'event');
  }

  /** Complete events received so far (chunks joined), with the frame that completed each. */
  events(): Array<{ deliveryId: string; body: Record<string, unknown>; frame: Frame }> {
    const partial = new Map<string, Array<Uint8Array | undefined>>();
    const out: Array<{ deliveryId: string; body: Record<string, unknown>; frame: Frame }> = [];
    for (const frame of this.eventFrames()) {
      const id = headerValue(frame, 'message_id')!;
      const sum = Number(headerValue(frame, 'sum'));
      const seq = Number(headerValue(frame, 'seq'));
      const parts = partial.get(id) ?? new Array<Uint8Array | undefined>(sum).fill(undefined);
      parts[seq] = frame.payload;
      partial.set(id, parts);
      if (parts.every(Boolean)) {
        partial.delete(id);
        const text = Buffer.concat(parts as Uint8Array[]).toString('utf8');
        out.push({ deliveryId: id, body: JSON.parse(text) as Record<string, unknown>, frame });
      }
    }
    return out;
  }

  /** ACKs a frame; a callback's answer goes in `answer` (sent as `data`, base64 of its JSON, as the SDK does). */
  ack(frame: Frame, code: number, answer?: unknown): void {
    const data = answer === undefined ? {} : { data: Buffer.from(JSON.stringify(answer)).toString('base64') };
    this.sendFrame({
      ...frame,
      headers: [...frame.headers, { key: 'biz_rt', value: '3' }],
      payload: Buffer.from(JSON.stringify({ code, ...data })),
    });
  }

  close(): void {
    this.socket?.terminate();
  }
}

/** A logger for the official SDK that keeps test output clean. */
export const quietSdkLogger = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };

/**
 * A simulator with a seeded tenant, user and bot, a group chat of the two, and the official SDK's
 * Client for the bot: the peer the SDK tests check the simulator against.
 */
export async function startSdkWorld(): Promise<{ sim: Simulator; control: Control; world: World; client: Client; chatId: string }> {
  const sim = await startSimulator();
  const control = controlClient(sim.url);
  const world = await seedWorld(control);
  const { chat_id: chatId } = await control.post<{ chat_id: string }>('/chats', {
    tenant_key: world.tenantKey,
    name: 'Team',
    user_ids: [world.userId],
    app_ids: [world.app.app_id],
  });
  const client = new Client({
    appId: world.app.app_id,
    appSecret: world.app.app_secret,
    domain: sim.url,
    cache: new DefaultCache(),
    logger: quietSdkLogger,
    loggerLevel: LoggerLevel.error,
  });
  return { sim, control, world, client, chatId };
}

/** The Lark code an official SDK call ended with: 0 when it succeeded, -1 when the answer had none. */
export async function larkCode(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    const data = (error as { response?: { data?: unknown } }).response?.data;
    if (data && typeof (data as { code?: unknown }).code === 'number') return (data as { code: number }).code;
    // A download's error body arrives as a stream.
    if (data && typeof (data as AsyncIterable<Buffer>)[Symbol.asyncIterator] === 'function') {
      let text = '';
      for await (const chunk of data as AsyncIterable<Buffer>) text += chunk.toString();
      return (JSON.parse(text) as { code: number }).code;
    }
    return -1;
  }
  return 0;
}
