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

export type ChatMode = 'group' | 'topic' | 'p2p';
export type GroupMessageType = 'chat' | 'thread';

export type Chat = {
  chatId: string;
  type: 'p2p' | 'group';
  /** `topic`: a topic group, every top-level message opens a topic. */
  chatMode: ChatMode;
  /** `thread`: a group whose messages are topics (always so in a topic group). */
  groupMessageType: GroupMessageType;
  tenantKey: string;
  name: string;
  /** The group's owner (its creator); none for p2p chats. */
  ownerUserId?: string;
  userIds: Set<string>;
  appIds: Set<string>;
  createdAt: number;
};

/** Every top-level message of such a chat opens a topic of its own. */
export const isThreadedChat = (chat: Chat) => chat.chatMode === 'topic' || chat.groupMessageType === 'thread';

export type Party = { type: 'user' | 'app'; id: string };

/** A mention as stored on a user's message: the placeholder key and who it names. */
export type StoredMention = { key: string } & Party;

export type RecallType = 'message_owner' | 'group_owner' | 'group_manager' | 'enterprise_manager';

export type Reaction = { reactionId: string; emojiType: string; operator: Party; actionTime: number };

/** A CardKit card entity: created once, sent at most once, updated in place by its app. */
export type CardEntity = {
  cardId: string;
  appId: string;
  /** The current card JSON 2.0. */
  card: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  /** The last accepted operation sequence (0 before any). */
  sequence: number;
  /** The message that shows this card, once sent. */
  messageId?: string;
  /** When streaming mode was last switched on (it closes itself a while later). */
  streamingOpenedAt?: number;
};

/** An image or file held by the platform: uploaded by an app, or sent by a user. */
export type MediaBlob = {
  key: string;
  /** `sticker`: shown in chats, never downloadable. */
  kind: 'image' | 'file' | 'sticker';
  /** The app that uploaded it (only it may send it), or the user who sent it. */
  owner: Party;
  size: number;
  contentType: string;
  fileName?: string;
  /** Uploaded files: the declared `file_type` (opus, mp4, pdf, doc, xls, ppt, stream). */
  fileType?: string;
  durationMs?: number;
  width?: number;
  height?: number;
  /** The bytes; absent for a filler, whose bytes are generated on every read. */
  data?: Buffer;
  filler?: boolean;
  createdAt: number;
};

/** Blobs up to this size are written to a state file; larger ones (fillers aside) are not kept. */
export const persistedBlobMaxBytes = 2 * 1024 * 1024;

type BlobSnapshot = Omit<MediaBlob, 'data'> & { data_base64?: string };

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
  /** A card entity message shows that entity's current card instead of `content`. */
  cardId?: string;
  recalledAt?: number;
  recallType?: RecallType;
  reactions: Reaction[];
  /** Reactions ever added to it (removed ones included), for tests that a reaction never showed. */
  reactionsAdded?: number;
  /** A message inside a merge_forward: the merge_forward's id. Such a message is in no chat's list. */
  upperMessageId?: string;
  /** A merge_forward: the messages it holds, in order. */
  forwardedIds?: string[];
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
  /** Chat modes and reactions are absent in files written before they existed. */
  chats: Array<
    Omit<Chat, 'userIds' | 'appIds' | 'chatMode' | 'groupMessageType'> & {
      userIds: string[];
      appIds: string[];
      chatMode?: ChatMode;
      groupMessageType?: GroupMessageType;
    }
  >;
  /** In the order they were added, which is each chat's order too. */
  messages: Array<Omit<Message, 'reactions'> & { reactions?: Reaction[] }>;
  /** `${app_id}|${user id}` -> the p2p chat between them. */
  p2pChats: Array<[string, string]>;
  openIds: Array<[string, OpenIdSubject]>;
  /** Absent in files written before card entities existed. */
  cards?: CardEntity[];
  /** Absent in files written before media existed; large blobs are left out. */
  media?: BlobSnapshot[];
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
  readonly cards = new Map<string, CardEntity>();
  readonly media = new Map<string, MediaBlob>();
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
    this.cards.clear();
    this.media.clear();
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
      cards: [...this.cards.values()],
      media: [...this.media.values()]
        .filter((blob) => blob.filler || blob.size <= persistedBlobMaxBytes)
        .map(({ data, ...blob }) => ({ ...blob, ...(data ? { data_base64: data.toString('base64') } : {}) })),
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
      // Files from before chat modes: a group was a plain group.
      const chatMode = chat.chatMode ?? (chat.type === 'p2p' ? 'p2p' : 'group');
      const groupMessageType = chat.groupMessageType ?? 'chat';
      this.chats.set(chat.chatId, { ...chat, chatMode, groupMessageType, userIds: new Set(chat.userIds), appIds: new Set(chat.appIds) });
      this.chatMessages.set(chat.chatId, []);
    }
    for (const message of snapshot.messages) this.addMessage({ ...message, reactions: message.reactions ?? [] });
    for (const card of snapshot.cards ?? []) this.cards.set(card.cardId, card);
    for (const { data_base64: data, ...blob } of snapshot.media ?? []) {
      this.media.set(blob.key, { ...blob, ...(data !== undefined ? { data: Buffer.from(data, 'base64') } : {}) });
    }
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

  createGroupChat(input: {
    tenantKey: string;
    name: string;
    userIds: string[];
    appIds: string[];
    chatMode?: 'group' | 'topic';
    groupMessageType?: GroupMessageType;
  }): Chat {
    const chatMode = input.chatMode ?? 'group';
    const chat: Chat = {
      chatId: newChatId(),
      type: 'group',
      chatMode,
      groupMessageType: chatMode === 'topic' ? 'thread' : (input.groupMessageType ?? 'chat'),
      tenantKey: input.tenantKey,
      name: input.name,
      ownerUserId: input.userIds[0],
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
      chatMode: 'p2p',
      groupMessageType: 'chat',
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
    // A forwarded copy lives inside its merge_forward, not in its origin chat's list.
    if (message.upperMessageId === undefined) this.chatMessages.get(message.chatId)!.push(message.messageId);
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
