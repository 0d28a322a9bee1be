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
  event_type: string;
  // The frame-level delivery id; the IM message id is im_message_id.
  message_id: string;
  im_message_id?: string;
  attempts: number;
  acks: { code: number; biz_rt: number | string | null; at: number }[];
  status: 'pending' | 'acked' | 'failed';
  // Simulator clock (ms): the delivery's first send follows at once.
  created_at: number;
};
export type SimReaction = {
  reaction_id: string;
  emoji_type: string;
  operator: { type: 'user' | 'app'; id: string; name: string };
  action_time: number;
};
export type SimChatMessage = {
  message_id: string;
  sender: { type: 'user' | 'app'; id: string; name: string };
  msg_type: string;
  // For a card entity message: the entity's current card.
  content: unknown;
  card_entity: { card_id: string; streaming_mode: boolean; summary: string | null; sequence: number } | null;
  root_id?: string | null;
  parent_id?: string | null;
  thread_id?: string | null;
  // Simulator clock (ms).
  create_time: number;
  updates: unknown[];
  recalled_at: number | null;
  recall_type: string | null;
  reactions: SimReaction[];
};
export type SimEventSent = { app_id: string; event_id: string };
export type SimCardOp = {
  at: number;
  kind: 'create' | 'element_content' | 'settings' | 'update' | 'callback_card';
  sequence: number | null;
  content_length: number;
  element_id?: string;
  uuid?: string;
  // 0 when applied, else the Lark code the operation was answered with.
  code: number;
  // A repeated uuid, answered as before without changing anything.
  replay?: boolean;
};
export type SimCard = {
  card_id: string;
  app_id: string;
  message_id: string | null;
  card: Record<string, unknown>;
  streaming_mode: boolean;
  summary: string | null;
  sequence: number;
  created_at: number;
  updated_at: number;
  streaming_opened_at: number | null;
};
export type SimToast = { type: 'info' | 'success' | 'warning' | 'error'; content?: string; i18n?: Record<string, string> };
export type SimCardActionResult =
  | { status: 'open_url'; url: string }
  | {
      // answered: the bot ACKed in time and its answer was applied; otherwise the user saw an error.
      status: 'answered' | 'timeout' | 'rejected';
      event_id: string;
      toast: SimToast | null;
      card: Record<string, unknown> | null;
      // The decoded `data` of the bot's ACK.
      response: unknown;
      error?: string;
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

  // A group seeded with its members (no events). chat_mode 'topic': every top-level message opens a topic.
  async createChat(input: {
    tenant_key: string;
    name: string;
    user_ids: string[];
    app_ids: string[];
    chat_mode?: 'group' | 'topic';
    group_message_type?: 'chat' | 'thread';
  }): Promise<string> {
    return (await this.request<{ chat_id: string }>('POST', '/chats', input)).chat_id;
  }

  // Each bot that joins gets im.chat.member.bot.added_v1 (operator: the named user, else the chat's first user).
  async addMembers(chatId: string, input: { user_ids?: string[]; app_ids?: string[]; operator_user_id?: string }): Promise<SimEventSent[]> {
    return (await this.request<{ deliveries: SimEventSent[] }>('POST', `/chats/${chatId}/members`, input)).deliveries;
  }

  // Each bot removed gets im.chat.member.bot.deleted_v1.
  async removeMembers(chatId: string, input: { user_ids?: string[]; app_ids?: string[]; operator_user_id?: string }): Promise<SimEventSent[]> {
    return (await this.request<{ deliveries: SimEventSent[] }>('DELETE', `/chats/${chatId}/members`, input)).deliveries;
  }

  // The user opens the DM with the bot: im.chat.access_event.bot_p2p_chat_entered_v1.
  enterP2p(appId: string, userId: string): Promise<{ chat_id: string; deliveries: SimEventSent[] }> {
    return this.request('POST', '/p2p/enter', { app_id: appId, user_id: userId });
  }

  // The user recalls their own message: im.message.recalled_v1 to every bot of the chat.
  recallMessage(messageId: string, userId: string): Promise<{ message_id: string; recall_time: number; deliveries: SimEventSent[] }> {
    return this.request('POST', `/messages/${messageId}/recall`, { user_id: userId });
  }

  // The user presses a card button, by its index in document order or by its callback value. Resolves
  // once the bot's ACK was applied (or the wait ended), with what the user saw.
  clickCardButton(messageId: string, input: { user_id: string; index: number } | { user_id: string; value: unknown }): Promise<SimCardActionResult> {
    return this.request('POST', `/messages/${messageId}/card-action`, input);
  }

  card(cardId: string): Promise<SimCard & { ops: SimCardOp[] }> {
    return this.request('GET', `/cards/${cardId}`);
  }

  async cards(appId?: string): Promise<SimCard[]> {
    return (await this.request<{ cards: SimCard[] }>('GET', `/cards${appId ? `?app_id=${appId}` : ''}`)).cards;
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
