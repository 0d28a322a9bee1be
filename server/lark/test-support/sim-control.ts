import type { LarkRegion } from '../api/hosts';

// A thin client of the simulator's control API (simulator/README.md), used over HTTP exactly as any
// outside test would, so these tests depend only on the documented contract.

export type SimApp = { app_id: string; app_secret: string; brand: LarkRegion; tenant_key: string; name: string };
export type SimUser = { id: string; tenant_key: string; name: string; union_id: string; user_id: string };
export type SimAppInfo = {
  app_id: string;
  name: string;
  brand: LarkRegion;
  tenant_key: string;
  bot_open_id: string;
  bot_union_id: string;
  connections: number;
};
export type SimDelivery = {
  event_id: string;
  // The frame-level delivery id; the IM message id is im_message_id.
  message_id: string;
  im_message_id?: string;
  attempts: number;
  acks: { code: number; biz_rt: number | string | null; at: number }[];
  status: 'pending' | 'acked' | 'failed';
  // Simulator clock (ms): the delivery's first send follows at once.
  created_at: number;
};
export type SimChatMessage = {
  message_id: string;
  sender: { type: 'user' | 'app'; id: string };
  msg_type: string;
  content: unknown;
  root_id?: string | null;
  thread_id?: string | null;
  create_time: string;
  updates: unknown[];
};

export class SimControl {
  constructor(readonly url: string) {}

  brandRoot(brand: LarkRegion): string {
    return `${this.url}/${brand}`;
  }

  // The `{region}` override form the product uses in deployments.
  get hostOverride(): string {
    return `${this.url}/{region}`;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}/_control${path}`, {
      method,
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`control ${method} ${path} -> ${response.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  reset(): Promise<void> {
    return this.request('POST', '/reset');
  }

  createTenant(brand: LarkRegion, name: string): Promise<{ tenant_key: string; brand: LarkRegion; name: string }> {
    return this.request('POST', '/tenants', { brand, name });
  }

  createUser(tenantKey: string, name: string): Promise<SimUser> {
    return this.request('POST', '/users', { tenant_key: tenantKey, name });
  }

  createApp(tenantKey: string, name: string, ownerUserId?: string): Promise<SimApp> {
    return this.request('POST', '/apps', { tenant_key: tenantKey, name, ...(ownerUserId ? { owner_user_id: ownerUserId } : {}) });
  }

  getApp(appId: string): Promise<SimAppInfo> {
    return this.request('GET', `/apps/${appId}`);
  }

  async openIdOf(appId: string, userId: string): Promise<string> {
    return (await this.request<{ open_id: string }>('GET', `/apps/${appId}/open-id?user_id=${encodeURIComponent(userId)}`)).open_id;
  }

  async createChat(input: { tenant_key: string; name: string; user_ids: string[]; app_ids: string[] }): Promise<string> {
    return (await this.request<{ chat_id: string }>('POST', '/chats', input)).chat_id;
  }

  sendMessage(input: {
    user_id: string;
    app_id?: string;
    chat_id?: string;
    text?: string;
    post?: unknown;
    mentions?: ({ app_id: string } | { user_id: string })[];
    root_id?: string;
  }): Promise<{ message_id: string; chat_id: string; deliveries: { app_id: string; event_id: string }[] }> {
    return this.request('POST', '/messages', input);
  }

  async chatMessages(chatId: string): Promise<SimChatMessage[]> {
    return (await this.request<{ messages: SimChatMessage[] }>('GET', `/chats/${chatId}/messages`)).messages;
  }

  async p2pChat(appId: string, userId: string): Promise<string> {
    return (await this.request<{ chat_id: string }>('GET', `/p2p?app_id=${appId}&user_id=${encodeURIComponent(userId)}`)).chat_id;
  }

  async deliveries(appId: string): Promise<SimDelivery[]> {
    return (await this.request<{ deliveries: SimDelivery[] }>('GET', `/deliveries?app_id=${appId}`)).deliveries;
  }

  async addFault(fault: Record<string, unknown> & { kind: string }): Promise<string> {
    return (await this.request<{ id: string }>('POST', '/faults', fault)).id;
  }

  clearFaults(): Promise<void> {
    return this.request('DELETE', '/faults');
  }

  async registrations(status = 'pending'): Promise<{ user_code: string; brand: LarkRegion; status: string }[]> {
    return (await this.request<{ registrations: { user_code: string; brand: LarkRegion; status: string }[] }>('GET', `/registrations?status=${status}`))
      .registrations;
  }

  approveRegistration(userCode: string, userId: string, appName?: string): Promise<{ app_id: string; brand: LarkRegion }> {
    return this.request('POST', `/registrations/${encodeURIComponent(userCode)}/approve`, { user_id: userId, ...(appName ? { app_name: appName } : {}) });
  }

  denyRegistration(userCode: string): Promise<void> {
    return this.request('POST', `/registrations/${encodeURIComponent(userCode)}/deny`);
  }
}
