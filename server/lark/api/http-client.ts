import type { Logger } from 'pino';
import { logger as rootLogger } from '@/server/logger';
import { LARK_DEFAULTS } from '../defaults';
import {
  LarkApiError,
  LarkNetworkError,
  LarkPermissionError,
  LarkRateLimitError,
  LarkRequestError,
  LarkResourceTooLargeError,
  PERMISSION_CODES,
  RATE_LIMIT_CODES,
  TOKEN_INVALID_CODES,
  type LarkErrorDetails,
} from './errors';
import { resolveLarkHosts, type LarkHostOverrides, type LarkRegion } from './hosts';
import { parseJsonObject, performRequest, type FetchLike, type RawResponse } from './request';
import { sharedTenantTokenCache, type FetchedTenantToken, type TenantTokenCache } from './tenant-token-cache';


const SEND_OPERATION = 'im.message.create';

export type LarkReceiveIdType = 'chat_id' | 'open_id' | 'union_id' | 'user_id' | 'email';

export type LarkCard = Record<string, unknown>;

export type LarkSentMessage = {
  messageId: string;
  chatId: string | null;
  msgType: string | null;
  createTime: string | null;
  rootId: string | null;
  parentId: string | null;
  threadId: string | null;
};

export type LarkBotInfo = {
  openId: string;
  appName: string | null;
  avatarUrl: string | null;
  activateStatus: number | null;
};

export type LarkUser = {
  openId: string;
  unionId: string | null;
  userId: string | null;
  name: string | null;
};

/** What Lark says about a chat: its name and mode ('group' | 'topic' | 'p2p'). */
export type LarkChatInfo = { chatId: string; name: string | null; chatMode: string | null };

export type LarkCallOptions = { signal?: AbortSignal; timeoutMs?: number };
export type LarkSendOptions = LarkCallOptions & { uuid?: string };
export type LarkReplyInput = {
  msgType: string;
  // A string is sent as is (already JSON); anything else is JSON-encoded into the `content` string.
  content: string | Record<string, unknown>;
  replyInThread?: boolean;
  uuid?: string;
};

export type LarkHttpClientOptions = {
  appId: string;
  appSecret: string;
  region: LarkRegion;
  hosts?: LarkHostOverrides;
  requestTimeoutMs?: number;
  rateLimitFallbackWaitMs?: number;
  fetch?: FetchLike;
  tokenCache?: TenantTokenCache;
  logger?: Logger;
  installationId?: string;
};

type ApiCall = {
  operation: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  body?: Record<string, unknown>;
  /** A multipart body (uploads); built afresh for each attempt. */
  form?: () => FormData;
};

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function recordOrEmpty(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function encodeContent(content: string | Record<string, unknown>): string {
  return typeof content === 'string' ? content : JSON.stringify(content);
}

function isBlank(value: unknown): boolean {
  return typeof value !== 'string' || value.trim() === '';
}

// Empty ids and bodies are refused here, naming the field, instead of costing a token round trip and
// coming back as an opaque Lark error (or, for a link, as a card with a dead button).
function requireValue(operation: string, field: string, value: unknown): void {
  if (isBlank(value)) throw new LarkRequestError(operation, field);
}

// A link (`url`, or `default_url` of an open_url behaviour) present but empty, anywhere in a card.
function hasEmptyLink(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(hasEmptyLink);
  if (node === null || typeof node !== 'object') return false;
  return Object.entries(node).some(([key, value]) => ((key === 'url' || key === 'default_url') && isBlank(value)) || hasEmptyLink(value));
}

function requireCard(operation: string, card: string | Record<string, unknown>): void {
  let parsed: unknown = card;
  if (typeof card === 'string') {
    requireValue(operation, 'card', card);
    try {
      parsed = JSON.parse(card);
    } catch {
      // Not ours to judge: Lark answers for a card string it cannot read.
      return;
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Object.keys(parsed).length === 0) throw new LarkRequestError(operation, 'card');
  if (hasEmptyLink(parsed)) throw new LarkRequestError(operation, 'url');
}

function toSentMessage(operation: string, response: Record<string, unknown>, httpStatus: number): LarkSentMessage {
  const data = recordOrEmpty(response.data);
  const messageId = stringOrNull(data.message_id);
  if (!messageId) {
    throw new LarkApiError({ operation, code: -1, msg: 'response without data.message_id', httpStatus });
  }
  return {
    messageId,
    chatId: stringOrNull(data.chat_id),
    msgType: stringOrNull(data.msg_type),
    createTime: stringOrNull(data.create_time),
    rootId: stringOrNull(data.root_id),
    parentId: stringOrNull(data.parent_id),
    threadId: stringOrNull(data.thread_id),
  };
}

/** Lark's `file_type` of an upload: opus audio, mp4 video, office documents, or `stream` for anything else. */
export type LarkUploadFileType = 'opus' | 'mp4' | 'pdf' | 'doc' | 'xls' | 'ppt' | 'stream';

/** One message as `im/v1/messages` returns it. */
export type LarkMessageItem = {
  messageId: string;
  msgType: string;
  /** The message's content JSON string (`body.content`). */
  content: string;
  createTime: number | null;
  chatId: string | null;
  threadId: string | null;
  parentId: string | null;
  rootId: string | null;
  /** The merged forward this message is part of. */
  upperMessageId: string | null;
  deleted: boolean;
  sender: { id: string | null; idType: string | null; senderType: string | null };
  mentions: Array<{ key: string; id: string | null; name: string }>;
};

function toMessageItem(value: unknown): LarkMessageItem | null {
  const item = recordOrEmpty(value);
  const messageId = stringOrNull(item.message_id);
  if (!messageId) return null;
  const sender = recordOrEmpty(item.sender);
  const time = Number(item.create_time);
  return {
    messageId,
    msgType: stringOrNull(item.msg_type) ?? 'unknown',
    content: typeof recordOrEmpty(item.body).content === 'string' ? (recordOrEmpty(item.body).content as string) : '',
    createTime: Number.isFinite(time) ? time : null,
    chatId: stringOrNull(item.chat_id),
    threadId: stringOrNull(item.thread_id),
    parentId: stringOrNull(item.parent_id),
    rootId: stringOrNull(item.root_id),
    upperMessageId: stringOrNull(item.upper_message_id),
    deleted: item.deleted === true,
    sender: { id: stringOrNull(sender.id), idType: stringOrNull(sender.id_type), senderType: stringOrNull(sender.sender_type) },
    mentions: Array.isArray(item.mentions)
      ? item.mentions.map((m) => {
          const r = recordOrEmpty(m);
          return { key: stringOrNull(r.key) ?? '', id: stringOrNull(r.id), name: typeof r.name === 'string' ? r.name : '' };
        })
      : [],
  };
}

/** The file name of a Content-Disposition header (RFC 5987 `filename*` first). */
function fileNameOf(header: string | null): string | null {
  if (!header) return null;
  const extended = /filename\*\s*=\s*[^']*'[^']*'([^;]+)/i.exec(header);
  if (extended) {
    try {
      return decodeURIComponent(extended[1].trim());
    } catch {
      // fall through to the plain form
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(header);
  return plain ? plain[1].trim() : null;
}

// Lark's open platform for one installation (one app). Tokens come from a process-wide cache keyed
// by app_id; a token-invalid reply drops the cached token and the call is retried exactly once.
export class LarkHttpClient {
  readonly appId: string;
  readonly region: LarkRegion;
  private readonly appSecret: string;
  private readonly openBaseUrl: string;
  private readonly requestTimeoutMs: number;
  private readonly rateLimitFallbackWaitMs: number;
  private readonly fetchImpl?: FetchLike;
  private readonly tokenCache: TenantTokenCache;
  private readonly logBase: Logger | undefined;
  private readonly installationId: string | undefined;
  private logChild: Logger | undefined;

  constructor(options: LarkHttpClientOptions) {
    this.appId = options.appId;
    this.appSecret = options.appSecret;
    this.region = options.region;
    this.openBaseUrl = resolveLarkHosts(options.region, options.hosts).openBaseUrl;
    this.requestTimeoutMs = options.requestTimeoutMs ?? LARK_DEFAULTS.http.requestTimeoutMs;
    this.rateLimitFallbackWaitMs = options.rateLimitFallbackWaitMs ?? LARK_DEFAULTS.http.rateLimitFallbackWaitMs;
    this.fetchImpl = options.fetch;
    this.tokenCache = options.tokenCache ?? sharedTenantTokenCache;
    this.logBase = options.logger;
    this.installationId = options.installationId;
  }

  // Made on first use: most clients never log, and a child logger is not free (one client per run and delivery).
  private get log(): Logger {
    this.logChild ??= (this.logBase ?? rootLogger()).child({
      component: 'lark-http',
      appId: this.appId,
      ...(this.installationId ? { installationId: this.installationId } : {}),
    });
    return this.logChild;
  }

  async sendText(receiveIdType: LarkReceiveIdType, receiveId: string, text: string, options: LarkSendOptions = {}): Promise<LarkSentMessage> {
    requireValue(SEND_OPERATION, 'receive_id', receiveId);
    requireValue(SEND_OPERATION, 'text', text);
    return this.sendMessage(receiveIdType, receiveId, 'text', JSON.stringify({ text }), options);
  }

  async sendCard(receiveIdType: LarkReceiveIdType, receiveId: string, card: LarkCard | string, options: LarkSendOptions = {}): Promise<LarkSentMessage> {
    requireValue(SEND_OPERATION, 'receive_id', receiveId);
    requireCard(SEND_OPERATION, card);
    return this.sendMessage(receiveIdType, receiveId, 'interactive', encodeContent(card), options);
  }

  async reply(messageId: string, input: LarkReplyInput, options: LarkCallOptions = {}): Promise<LarkSentMessage> {
    const operation = 'im.message.reply';
    requireValue(operation, 'message_id', messageId);
    requireValue(operation, 'msg_type', input.msgType);
    if (typeof input.content === 'string') requireValue(operation, 'content', input.content);
    if (input.msgType === 'interactive') requireCard(operation, input.content);
    else if (input.msgType === 'text' && typeof input.content !== 'string') requireValue(operation, 'text', input.content.text);
    else if (typeof input.content !== 'string' && Object.keys(input.content).length === 0) throw new LarkRequestError(operation, 'content');
    const body: Record<string, unknown> = { msg_type: input.msgType, content: encodeContent(input.content) };
    if (input.replyInThread !== undefined) body.reply_in_thread = input.replyInThread;
    if (input.uuid !== undefined) body.uuid = input.uuid;
    const { body: response, status } = await this.call(
      { operation, method: 'POST', path: `/open-apis/im/v1/messages/${encodeURIComponent(messageId)}/reply`, body },
      options,
    );
    return toSentMessage(operation, response, status);
  }

  async getBotInfo(options: LarkCallOptions = {}): Promise<LarkBotInfo> {
    const operation = 'bot.info';
    const { body, status } = await this.call({ operation, method: 'GET', path: '/open-apis/bot/v3/info' }, options);
    // bot/v3/info answers with a top-level `bot`, not `data`.
    const bot = recordOrEmpty(body.bot);
    const openId = stringOrNull(bot.open_id);
    if (!openId) throw new LarkApiError({ operation, code: -1, msg: 'response without bot.open_id', httpStatus: status });
    return {
      openId,
      appName: stringOrNull(bot.app_name),
      avatarUrl: stringOrNull(bot.avatar_url),
      activateStatus: typeof bot.activate_status === 'number' ? bot.activate_status : null,
    };
  }

  // Throws LarkPermissionError when the app lacks the contact scope; callers may treat that as non-fatal.
  async getUser(openId: string, options: LarkCallOptions = {}): Promise<LarkUser> {
    const operation = 'contact.user.get';
    requireValue(operation, 'open_id', openId);
    const { body } = await this.call(
      { operation, method: 'GET', path: `/open-apis/contact/v3/users/${encodeURIComponent(openId)}?user_id_type=open_id` },
      options,
    );
    const user = recordOrEmpty(recordOrEmpty(body.data).user);
    return {
      openId: stringOrNull(user.open_id) ?? openId,
      unionId: stringOrNull(user.union_id),
      userId: stringOrNull(user.user_id),
      name: stringOrNull(user.name),
    };
  }

  async getChat(chatId: string, options: LarkCallOptions = {}): Promise<LarkChatInfo> {
    const operation = 'im.chat.get';
    requireValue(operation, 'chat_id', chatId);
    const { body } = await this.call({ operation, method: 'GET', path: `/open-apis/im/v1/chats/${encodeURIComponent(chatId)}` }, options);
    const data = recordOrEmpty(body.data);
    return { chatId, name: stringOrNull(data.name), chatMode: stringOrNull(data.chat_mode) };
  }

  /** CardKit: creates a card entity from card JSON 2.0 and returns its card_id. */
  async createCardEntity(card: LarkCard, options: LarkCallOptions = {}): Promise<string> {
    const operation = 'cardkit.card.create';
    requireCard(operation, card);
    const { body, status } = await this.call({ operation, method: 'POST', path: '/open-apis/cardkit/v1/cards', body: { type: 'card_json', data: JSON.stringify(card) } }, options);
    const cardId = stringOrNull(recordOrEmpty(body.data).card_id);
    if (!cardId) throw new LarkApiError({ operation, code: -1, msg: 'response without data.card_id', httpStatus: status });
    return cardId;
  }

  /** CardKit: replaces a streaming element's text (the full text so far); `sequence` must grow with every operation on the card. */
  async setCardElementContent(cardId: string, elementId: string, input: { content: string; sequence: number; uuid?: string }, options: LarkCallOptions = {}): Promise<void> {
    const operation = 'cardkit.card_element.content';
    requireValue(operation, 'card_id', cardId);
    requireValue(operation, 'element_id', elementId);
    await this.call(
      {
        operation,
        method: 'PUT',
        path: `/open-apis/cardkit/v1/cards/${encodeURIComponent(cardId)}/elements/${encodeURIComponent(elementId)}/content`,
        body: { content: input.content, sequence: input.sequence, ...(input.uuid ? { uuid: input.uuid } : {}) },
      },
      options,
    );
  }

  /** CardKit: changes a card's settings (streaming mode, summary). */
  async setCardSettings(cardId: string, input: { config: Record<string, unknown>; sequence: number; uuid?: string }, options: LarkCallOptions = {}): Promise<void> {
    const operation = 'cardkit.card.settings';
    requireValue(operation, 'card_id', cardId);
    await this.call(
      {
        operation,
        method: 'PATCH',
        path: `/open-apis/cardkit/v1/cards/${encodeURIComponent(cardId)}/settings`,
        body: { settings: JSON.stringify({ config: input.config }), sequence: input.sequence, ...(input.uuid ? { uuid: input.uuid } : {}) },
      },
      options,
    );
  }

  /** CardKit: replaces a card entity as a whole. */
  async replaceCardEntity(cardId: string, input: { card: LarkCard; sequence: number; uuid?: string }, options: LarkCallOptions = {}): Promise<void> {
    const operation = 'cardkit.card.update';
    requireValue(operation, 'card_id', cardId);
    requireCard(operation, input.card);
    await this.call(
      {
        operation,
        method: 'PUT',
        path: `/open-apis/cardkit/v1/cards/${encodeURIComponent(cardId)}`,
        body: { card: { type: 'card_json', data: JSON.stringify(input.card) }, sequence: input.sequence, ...(input.uuid ? { uuid: input.uuid } : {}) },
      },
      options,
    );
  }

  /** Adds an emoji reaction to a message; returns its reaction_id. */
  async addReaction(messageId: string, emojiType: string, options: LarkCallOptions = {}): Promise<string> {
    const operation = 'im.message_reaction.create';
    requireValue(operation, 'message_id', messageId);
    const { body, status } = await this.call(
      { operation, method: 'POST', path: `/open-apis/im/v1/messages/${encodeURIComponent(messageId)}/reactions`, body: { reaction_type: { emoji_type: emojiType } } },
      options,
    );
    const reactionId = stringOrNull(recordOrEmpty(body.data).reaction_id);
    if (!reactionId) throw new LarkApiError({ operation, code: -1, msg: 'response without data.reaction_id', httpStatus: status });
    return reactionId;
  }

  async deleteReaction(messageId: string, reactionId: string, options: LarkCallOptions = {}): Promise<void> {
    const operation = 'im.message_reaction.delete';
    requireValue(operation, 'message_id', messageId);
    requireValue(operation, 'reaction_id', reactionId);
    await this.call(
      { operation, method: 'DELETE', path: `/open-apis/im/v1/messages/${encodeURIComponent(messageId)}/reactions/${encodeURIComponent(reactionId)}` },
      options,
    );
  }

  /** Deletes (recalls) a message the bot sent. */
  async deleteMessage(messageId: string, options: LarkCallOptions = {}): Promise<void> {
    const operation = 'im.message.delete';
    requireValue(operation, 'message_id', messageId);
    await this.call({ operation, method: 'DELETE', path: `/open-apis/im/v1/messages/${encodeURIComponent(messageId)}` }, options);
  }

  /**
   * Downloads what a user sent (`type` image for images, file for files, audio and video), at most
   * `maxBytes`: a bigger one throws LarkResourceTooLargeError without reading the rest.
   */
  async downloadMessageResource(
    messageId: string,
    fileKey: string,
    type: 'image' | 'file',
    options: LarkCallOptions & { maxBytes: number },
  ): Promise<{ bytes: Buffer; contentType: string | null; fileName: string | null }> {
    const operation = 'im.message_resource.get';
    requireValue(operation, 'message_id', messageId);
    requireValue(operation, 'file_key', fileKey);
    const { response, status } = await this.exchange(
      { operation, method: 'GET', path: `/open-apis/im/v1/messages/${encodeURIComponent(messageId)}/resources/${encodeURIComponent(fileKey)}?type=${type}` },
      options,
      { maxBytes: options.maxBytes },
    );
    if (!response.bytes) throw new LarkApiError({ operation, code: -1, msg: 'a JSON answer where a file was expected', httpStatus: status });
    return { bytes: response.bytes, contentType: response.headers.get('content-type'), fileName: fileNameOf(response.headers.get('content-disposition')) };
  }

  /** One message (`items`: a merged forward comes with its children, which carry `upper_message_id`). */
  async getMessage(messageId: string, options: LarkCallOptions = {}): Promise<LarkMessageItem[]> {
    const operation = 'im.message.get';
    requireValue(operation, 'message_id', messageId);
    const { body } = await this.call({ operation, method: 'GET', path: `/open-apis/im/v1/messages/${encodeURIComponent(messageId)}?user_id_type=open_id` }, options);
    const items = recordOrEmpty(body.data).items;
    return Array.isArray(items) ? items.map(toMessageItem).filter((m): m is LarkMessageItem => m !== null) : [];
  }

  /** One page of a chat's or topic's history, newest first (`ByCreateTimeDesc`), at most 50. */
  async listMessages(
    input: { containerType: 'chat' | 'thread'; containerId: string; pageSize: number; pageToken?: string; startTimeSeconds?: number },
    options: LarkCallOptions = {},
  ): Promise<{ items: LarkMessageItem[]; hasMore: boolean; pageToken: string | null }> {
    const operation = 'im.message.list';
    requireValue(operation, 'container_id', input.containerId);
    const query = new URLSearchParams({
      container_id_type: input.containerType,
      container_id: input.containerId,
      sort_type: 'ByCreateTimeDesc',
      page_size: String(Math.min(50, Math.max(1, input.pageSize))),
    });
    if (input.pageToken) query.set('page_token', input.pageToken);
    if (input.startTimeSeconds !== undefined && input.containerType === 'chat') query.set('start_time', String(input.startTimeSeconds));
    const { body } = await this.call({ operation, method: 'GET', path: `/open-apis/im/v1/messages?${query}` }, options);
    const data = recordOrEmpty(body.data);
    const items = Array.isArray(data.items) ? data.items.map(toMessageItem).filter((m): m is LarkMessageItem => m !== null) : [];
    return { items, hasMore: data.has_more === true, pageToken: stringOrNull(data.page_token) };
  }

  /** Uploads an image for messages and cards; returns its image_key. */
  async uploadImage(bytes: Buffer, options: LarkCallOptions = {}): Promise<string> {
    const operation = 'im.image.create';
    if (bytes.length === 0) throw new LarkRequestError(operation, 'image');
    const form = () => {
      const data = new FormData();
      data.set('image_type', 'message');
      data.set('image', new Blob([new Uint8Array(bytes)]), 'image');
      return data;
    };
    const { body, status } = await this.call({ operation, method: 'POST', path: '/open-apis/im/v1/images', form }, options);
    const key = stringOrNull(recordOrEmpty(body.data).image_key);
    if (!key) throw new LarkApiError({ operation, code: -1, msg: 'response without data.image_key', httpStatus: status });
    return key;
  }

  /** Uploads a file (at most 30 MB on Lark's side); returns its file_key. */
  async uploadFile(input: { bytes: Buffer; fileName: string; fileType: LarkUploadFileType; durationMs?: number }, options: LarkCallOptions = {}): Promise<string> {
    const operation = 'im.file.create';
    if (input.bytes.length === 0) throw new LarkRequestError(operation, 'file');
    requireValue(operation, 'file_name', input.fileName);
    const form = () => {
      const data = new FormData();
      data.set('file_type', input.fileType);
      data.set('file_name', input.fileName);
      if (input.durationMs !== undefined) data.set('duration', String(Math.round(input.durationMs)));
      data.set('file', new Blob([new Uint8Array(input.bytes)]), input.fileName);
      return data;
    };
    const { body, status } = await this.call({ operation, method: 'POST', path: '/open-apis/im/v1/files', form }, options);
    const key = stringOrNull(recordOrEmpty(body.data).file_key);
    if (!key) throw new LarkApiError({ operation, code: -1, msg: 'response without data.file_key', httpStatus: status });
    return key;
  }

  /** Sends an image or file message (`content` names the uploaded key) to a chat or person. */
  async sendMedia(
    receiveIdType: LarkReceiveIdType,
    receiveId: string,
    msgType: 'image' | 'file' | 'audio' | 'media',
    content: Record<string, string>,
    options: LarkSendOptions = {},
  ): Promise<LarkSentMessage> {
    requireValue(SEND_OPERATION, 'receive_id', receiveId);
    if (Object.keys(content).length === 0) throw new LarkRequestError(SEND_OPERATION, 'content');
    return this.sendMessage(receiveIdType, receiveId, msgType, JSON.stringify(content), options);
  }

  private async sendMessage(
    receiveIdType: LarkReceiveIdType,
    receiveId: string,
    msgType: string,
    content: string,
    options: LarkSendOptions,
  ): Promise<LarkSentMessage> {
    const operation = SEND_OPERATION;
    const body: Record<string, unknown> = { receive_id: receiveId, msg_type: msgType, content };
    if (options.uuid !== undefined) body.uuid = options.uuid;
    const { body: response, status } = await this.call(
      { operation, method: 'POST', path: `/open-apis/im/v1/messages?receive_id_type=${encodeURIComponent(receiveIdType)}`, body },
      options,
    );
    return toSentMessage(operation, response, status);
  }

  private async call(call: ApiCall, options: LarkCallOptions): Promise<{ body: Record<string, unknown>; status: number }> {
    const { body, status } = await this.exchange(call, options);
    return { body: body!, status };
  }

  /** One API call with the token rules; with `binary`, a non-JSON answer comes back as its bytes. */
  private async exchange(
    call: ApiCall,
    options: LarkCallOptions,
    binary?: { maxBytes: number },
  ): Promise<{ body: Record<string, unknown> | null; status: number; response: RawResponse }> {
    for (let attempt = 0; ; attempt += 1) {
      const token = await this.tokenCache.get(this.appId, () => this.fetchTenantToken(), options.signal);
      const response = await performRequest(
        {
          operation: call.operation,
          method: call.method,
          url: `${this.openBaseUrl}${call.path}`,
          headers: {
            Authorization: `Bearer ${token}`,
            ...(call.body ? { 'Content-Type': 'application/json; charset=utf-8' } : {}),
          },
          body: call.form ? call.form() : call.body ? JSON.stringify(call.body) : undefined,
          timeoutMs: options.timeoutMs ?? this.requestTimeoutMs,
          signal: options.signal,
          fetch: this.fetchImpl,
        },
        binary && { maxBytes: binary.maxBytes, onTooLarge: (size) => new LarkResourceTooLargeError(call.operation, size, binary.maxBytes) },
      );
      if (response.bytes) return { body: null, status: response.status, response };
      const body = parseJsonObject(response.text);
      const code = body && typeof body.code === 'number' ? body.code : undefined;
      if (body && code === 0) return { body, status: response.status, response };
      if (code !== undefined && TOKEN_INVALID_CODES.has(code) && attempt === 0) {
        this.log.info({ operation: call.operation, code }, 'lark rejected the tenant token; refreshing and retrying once');
        this.tokenCache.invalidate(this.appId, token);
        continue;
      }
      throw this.toError(call.operation, response, body);
    }
  }

  // Runs without the caller's signal: concurrent callers share this request, and one of them giving up
  // must not fail the others.
  private async fetchTenantToken(): Promise<FetchedTenantToken> {
    const operation = 'tenant_access_token';
    const response = await performRequest({
      operation,
      method: 'POST',
      url: `${this.openBaseUrl}/open-apis/auth/v3/tenant_access_token/internal`,
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ app_id: this.appId, app_secret: this.appSecret }),
      timeoutMs: this.requestTimeoutMs,
      fetch: this.fetchImpl,
    });
    const body = parseJsonObject(response.text);
    // The token and its lifetime are top-level fields, not under `data`.
    if (body && body.code === 0 && typeof body.tenant_access_token === 'string' && body.tenant_access_token) {
      const expireSeconds = typeof body.expire === 'number' && Number.isFinite(body.expire) ? body.expire : 0;
      this.log.debug({ expireSeconds }, 'fetched tenant access token');
      return { token: body.tenant_access_token, expireSeconds };
    }
    throw this.toError(operation, response, body);
  }

  private toError(operation: string, response: RawResponse, body: Record<string, unknown> | null): Error {
    const logId = response.headers.get('x-tt-logid') ?? undefined;
    if (!body || typeof body.code !== 'number') {
      if (response.status === 429) return this.rateLimitError({ operation, code: -1, msg: 'rate limited', httpStatus: 429, logId }, response);
      if (response.status >= 500 || response.status < 200) {
        return new LarkNetworkError(operation, `unparseable response (http ${response.status})`);
      }
      return new LarkApiError({ operation, code: -1, msg: 'unparseable response', httpStatus: response.status, logId });
    }
    const details: LarkErrorDetails = {
      operation,
      code: body.code,
      msg: typeof body.msg === 'string' ? body.msg : '',
      httpStatus: response.status,
      logId,
    };
    this.log.warn({ operation, code: details.code, httpStatus: details.httpStatus, logId }, 'lark api call failed');
    if (RATE_LIMIT_CODES.has(details.code) || response.status === 429) return this.rateLimitError(details, response);
    if (PERMISSION_CODES.has(details.code)) return new LarkPermissionError(details);
    return new LarkApiError(details);
  }

  private rateLimitError(details: LarkErrorDetails, response: RawResponse): LarkRateLimitError {
    const header = response.headers.get('x-ogw-ratelimit-reset');
    const seconds = header === null ? Number.NaN : Number(header);
    const retryAfterMs = Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds * 1000) : this.rateLimitFallbackWaitMs;
    return new LarkRateLimitError(details, retryAfterMs);
  }
}
