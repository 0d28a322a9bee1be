import {
  newAppId,
  newAppSecret,
  newChatId,
  newLarkUserId,
  newSimUserId,
  newTenantKey,
  newUnionId,
  newVerificationToken,
  randomHex,
  scopedOpenId,
} from './ids';

export const brands = ['feishu', 'lark'] as const;
export type Brand = (typeof brands)[number];

export type Tenant = { tenantKey: string; brand: Brand; name: string; createdAt: number };

export type User = {
  id: string;
  tenantKey: string;
  name: string;
  unionId: string;
  userId: string;
  createdAt: number;
};

export type App = {
  appId: string;
  appSecret: string;
  brand: Brand;
  tenantKey: string;
  name: string;
  ownerUserId?: string;
  botUnionId: string;
  verificationToken: string;
  createdAt: number;
};

export type Chat = {
  chatId: string;
  type: 'p2p' | 'group';
  tenantKey: string;
  name: string;
  userIds: Set<string>;
  appIds: Set<string>;
  createdAt: number;
};

export type Party = { type: 'user' | 'app'; id: string };

/** A mention as stored on a user's message: the placeholder key and who it names. */
export type StoredMention = { key: string } & Party;

export type Message = {
  messageId: string;
  chatId: string;
  sender: Party;
  msgType: string;
  /** Current content as the JSON string Lark stores; PATCH replaces it and appends to `updates`. */
  content: string;
  updates: string[];
  createTime: number;
  updateTime: number;
  rootId?: string;
  parentId?: string;
  threadId?: string;
  mentions: StoredMention[];
};

/** What an open_id stands for: a subject seen from one app's scope. */
export type OpenIdSubject =
  | { scopeAppId: string; kind: 'user'; userId: string }
  | { scopeAppId: string; kind: 'bot'; appId: string };

/** The directory as plain JSON: what a state file holds. */
export type DirectorySnapshot = {
  /** Seeds the per-app open_ids: keeping it keeps every open_id a client has already seen. */
  salt: string;
  tenants: Tenant[];
  users: User[];
  apps: App[];
  chats: Array<Omit<Chat, 'userIds' | 'appIds'> & { userIds: string[]; appIds: string[] }>;
  /** In the order they were added, which is each chat's order too. */
  messages: Message[];
  /** `${app_id}|${user id}` -> the p2p chat between them. */
  p2pChats: Array<[string, string]>;
  openIds: Array<[string, OpenIdSubject]>;
};

/**
 * The identity model and directory of one simulator: tenants, users, apps, chats, messages.
 * Protocol state (tokens, connections, deliveries, registrations) lives with its own module.
 */
export class Directory {
  readonly tenants = new Map<string, Tenant>();
  readonly users = new Map<string, User>();
  readonly apps = new Map<string, App>();
  readonly chats = new Map<string, Chat>();
  readonly messages = new Map<string, Message>();
  private readonly chatMessages = new Map<string, string[]>();
  private readonly p2pChats = new Map<string, string>();
  private readonly openIds = new Map<string, OpenIdSubject>();
  private salt = randomHex(16);

  reset(): void {
    this.tenants.clear();
    this.users.clear();
    this.apps.clear();
    this.chats.clear();
    this.messages.clear();
    this.chatMessages.clear();
    this.p2pChats.clear();
    this.openIds.clear();
    this.salt = randomHex(16);
  }

  snapshot(): DirectorySnapshot {
    return {
      salt: this.salt,
      tenants: [...this.tenants.values()],
      users: [...this.users.values()],
      apps: [...this.apps.values()],
      chats: [...this.chats.values()].map((chat) => ({ ...chat, userIds: [...chat.userIds], appIds: [...chat.appIds] })),
      messages: [...this.messages.values()],
      p2pChats: [...this.p2pChats],
      openIds: [...this.openIds],
    };
  }

  /** Replaces everything with a snapshot's contents. */
  restore(snapshot: DirectorySnapshot): void {
    this.reset();
    this.salt = snapshot.salt;
    for (const tenant of snapshot.tenants) this.tenants.set(tenant.tenantKey, tenant);
    for (const user of snapshot.users) this.users.set(user.id, user);
    for (const app of snapshot.apps) this.apps.set(app.appId, app);
    for (const chat of snapshot.chats) {
      this.chats.set(chat.chatId, { ...chat, userIds: new Set(chat.userIds), appIds: new Set(chat.appIds) });
      this.chatMessages.set(chat.chatId, []);
    }
    for (const message of snapshot.messages) this.addMessage(message);
    for (const [key, chatId] of snapshot.p2pChats) this.p2pChats.set(key, chatId);
    for (const [openId, subject] of snapshot.openIds) this.openIds.set(openId, subject);
  }

  createTenant(input: { brand: Brand; name: string }): Tenant {
    const tenant = { tenantKey: newTenantKey(), brand: input.brand, name: input.name, createdAt: Date.now() };
    this.tenants.set(tenant.tenantKey, tenant);
    return tenant;
  }

  createUser(input: { tenantKey: string; name: string }): User {
    const user = {
      id: newSimUserId(),
      tenantKey: input.tenantKey,
      name: input.name,
      unionId: newUnionId(),
      userId: newLarkUserId(),
      createdAt: Date.now(),
    };
    this.users.set(user.id, user);
    return user;
  }

  createApp(input: { tenantKey: string; name: string; ownerUserId?: string }): App {
    const tenant = this.tenants.get(input.tenantKey);
    if (!tenant) throw new Error(`unknown tenant ${input.tenantKey}`);
    const app = {
      appId: newAppId(),
      appSecret: newAppSecret(),
      brand: tenant.brand,
      tenantKey: tenant.tenantKey,
      name: input.name,
      ownerUserId: input.ownerUserId,
      botUnionId: newUnionId(),
      verificationToken: newVerificationToken(),
      createdAt: Date.now(),
    };
    this.apps.set(app.appId, app);
    return app;
  }

  createGroupChat(input: { tenantKey: string; name: string; userIds: string[]; appIds: string[] }): Chat {
    const chat: Chat = {
      chatId: newChatId(),
      type: 'group',
      tenantKey: input.tenantKey,
      name: input.name,
      userIds: new Set(input.userIds),
      appIds: new Set(input.appIds),
      createdAt: Date.now(),
    };
    this.chats.set(chat.chatId, chat);
    this.chatMessages.set(chat.chatId, []);
    return chat;
  }

  findP2pChat(app: App, user: User): Chat | undefined {
    const chatId = this.p2pChats.get(`${app.appId}|${user.id}`);
    return chatId ? this.chats.get(chatId) : undefined;
  }

  /** The one p2p chat between a user and a bot, created on first use as Lark does. */
  p2pChat(app: App, user: User): Chat {
    const existing = this.findP2pChat(app, user);
    if (existing) return existing;
    const key = `${app.appId}|${user.id}`;
    const chat: Chat = {
      chatId: newChatId(),
      type: 'p2p',
      tenantKey: app.tenantKey,
      name: `${user.name} & ${app.name}`,
      userIds: new Set([user.id]),
      appIds: new Set([app.appId]),
      createdAt: Date.now(),
    };
    this.chats.set(chat.chatId, chat);
    this.chatMessages.set(chat.chatId, []);
    this.p2pChats.set(key, chat.chatId);
    return chat;
  }

  addMessage(message: Message): void {
    this.messages.set(message.messageId, message);
    this.chatMessages.get(message.chatId)!.push(message.messageId);
  }

  messagesOf(chatId: string): Message[] {
    return (this.chatMessages.get(chatId) ?? []).map((id) => this.messages.get(id)!);
  }

  // open_id is scoped per app. A bot as returned by bot/v3/info and the same bot as it appears in
  // an event's mentions[] are different subjects on purpose: production shows they do not match,
  // only union_id does.
  userOpenId(scopeAppId: string, userId: string): string {
    return this.registerOpenId({ scopeAppId, kind: 'user', userId }, `user:${userId}`);
  }

  botSelfOpenId(appId: string): string {
    return this.registerOpenId({ scopeAppId: appId, kind: 'bot', appId }, `bot:${appId}`);
  }

  botMentionOpenId(scopeAppId: string, appId: string): string {
    return this.registerOpenId({ scopeAppId, kind: 'bot', appId }, `mention:${appId}`);
  }

  resolveOpenId(openId: string): OpenIdSubject | undefined {
    return this.openIds.get(openId);
  }

  private registerOpenId(subject: OpenIdSubject, key: string): string {
    const openId = scopedOpenId(this.salt, subject.scopeAppId, key);
    if (!this.openIds.has(openId)) this.openIds.set(openId, subject);
    return openId;
  }

  userByUnionId(unionId: string): User | undefined {
    for (const user of this.users.values()) if (user.unionId === unionId) return user;
    return undefined;
  }

  userByLarkUserId(tenantKey: string, userId: string): User | undefined {
    for (const user of this.users.values()) if (user.tenantKey === tenantKey && user.userId === userId) return user;
    return undefined;
  }

  appByUnionId(unionId: string): App | undefined {
    for (const app of this.apps.values()) if (app.botUnionId === unionId) return app;
    return undefined;
  }
}
