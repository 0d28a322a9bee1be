import type { CardRuntime } from './cards';
import type { SimulatorConfig } from './config';
import { addFault } from './control-faults';
import { ControlError, notFound, parse, schemas } from './control-input';
import { appView, blobView, cardView, chatView, faultView, messageView } from './control-views';
import type { DeliveryEngine } from './delivery';
import type { FaultStore } from './faults';
import { blobStream } from './media';
import { json, matchPath, type Reply } from './http';
import type { RateLimiter } from './rate-limit';
import { RegistrationError, type Registrations } from './registration';
import type { IdempotencyStore } from './im-api';
import type { App, Directory } from './state';
import type { TokenStore } from './tokens';
import { addMembers, clickCardButton, enterP2p, recallByUser, removeMembers } from './interactions';
import { InputError, postUserMessage } from './user-messages';
import type { WsGateway } from './ws';

export type ControlDeps = {
  dir: Directory;
  tokens: TokenStore;
  faults: FaultStore;
  delivery: DeliveryEngine;
  ws: WsGateway;
  registrations: Registrations;
  limiter: RateLimiter;
  idempotency: IdempotencyStore;
  cards: CardRuntime;
  config: SimulatorConfig;
};

export type ControlRequest = { method: string; path: string; query: URLSearchParams; body: unknown };
type Handler = (deps: ControlDeps, req: ControlRequest, params: Record<string, string>) => Reply | Promise<Reply>;

function requireApp(deps: ControlDeps, appId: string): App {
  const app = deps.dir.apps.get(appId);
  if (!app) throw notFound(`app ${appId}`);
  return app;
}

function requireTenant(deps: ControlDeps, tenantKey: string) {
  const tenant = deps.dir.tenants.get(tenantKey);
  if (!tenant) throw notFound(`tenant ${tenantKey}`);
  return tenant;
}

function groupChat(deps: ControlDeps, chatId: string) {
  const chat = deps.dir.chats.get(chatId);
  if (!chat) throw notFound(`chat ${chatId}`);
  if (chat.type !== 'group') throw new ControlError(400, 'invalid_request', 'only a group chat has members to add or remove');
  return chat;
}

function checkMembers(deps: ControlDeps, tenantKey: string, userIds: string[], appIds: string[]): void {
  for (const userId of userIds) {
    const user = deps.dir.users.get(userId);
    if (!user) throw notFound(`user ${userId}`);
    if (user.tenantKey !== tenantKey) throw new ControlError(400, 'invalid_request', `user ${userId} is in another tenant`);
  }
  for (const appId of appIds) {
    if (requireApp(deps, appId).tenantKey !== tenantKey) {
      throw new ControlError(400, 'invalid_request', `app ${appId} is in another tenant`);
    }
  }
}

function reset(deps: ControlDeps): Reply {
  deps.ws.reset();
  deps.delivery.clear();
  deps.registrations.reset();
  deps.tokens.clear();
  deps.faults.clear();
  deps.limiter.clear();
  deps.idempotency.clear();
  deps.cards.clear();
  deps.dir.reset();
  return json(204, undefined);
}

const routes: Array<{ method: string; pattern: string; handle: Handler }> = [
  { method: 'POST', pattern: '/reset', handle: (deps) => reset(deps) },
  {
    method: 'GET',
    pattern: '/state',
    handle: (deps) => {
      const { dir } = deps;
      return json(200, {
        tenants: [...dir.tenants.values()].map((t) => ({ tenant_key: t.tenantKey, brand: t.brand, name: t.name })),
        users: [...dir.users.values()].map((u) => ({ id: u.id, tenant_key: u.tenantKey, name: u.name, union_id: u.unionId, user_id: u.userId })),
        apps: [...dir.apps.values()].map((a) => appView(deps, a)),
        chats: [...dir.chats.values()].map((c) => chatView(deps, c)),
        registrations: deps.registrations.list(),
      });
    },
  },
  {
    method: 'POST',
    pattern: '/tenants',
    handle: (deps, req) => {
      const body = parse(schemas.tenant, req.body);
      const tenant = deps.dir.createTenant(body);
      return json(200, { tenant_key: tenant.tenantKey, brand: tenant.brand, name: tenant.name });
    },
  },
  {
    method: 'POST',
    pattern: '/users',
    handle: (deps, req) => {
      const body = parse(schemas.user, req.body);
      requireTenant(deps, body.tenant_key);
      const user = deps.dir.createUser({ tenantKey: body.tenant_key, name: body.name });
      return json(200, { id: user.id, tenant_key: user.tenantKey, name: user.name, union_id: user.unionId, user_id: user.userId });
    },
  },
  {
    method: 'POST',
    pattern: '/apps',
    handle: (deps, req) => {
      const body = parse(schemas.app, req.body);
      requireTenant(deps, body.tenant_key);
      if (body.owner_user_id) checkMembers(deps, body.tenant_key, [body.owner_user_id], []);
      const app = deps.dir.createApp({ tenantKey: body.tenant_key, name: body.name, ownerUserId: body.owner_user_id });
      return json(200, { app_id: app.appId, app_secret: app.appSecret, brand: app.brand, tenant_key: app.tenantKey, name: app.name });
    },
  },
  { method: 'GET', pattern: '/apps/:app_id', handle: (deps, _req, p) => json(200, appView(deps, requireApp(deps, p.app_id))) },
  {
    method: 'GET',
    pattern: '/apps/:app_id/open-id',
    handle: (deps, req, p) => {
      const app = requireApp(deps, p.app_id);
      const userId = req.query.get('user_id') ?? '';
      if (!deps.dir.users.has(userId)) throw notFound(`user ${userId}`);
      return json(200, { open_id: deps.dir.userOpenId(app.appId, userId) });
    },
  },
  {
    method: 'POST',
    pattern: '/chats',
    handle: (deps, req) => {
      const body = parse(schemas.chat, req.body);
      requireTenant(deps, body.tenant_key);
      checkMembers(deps, body.tenant_key, body.user_ids, body.app_ids);
      // Seeding a chat with its members: as if it had existed before, no events.
      const chat = deps.dir.createGroupChat({
        tenantKey: body.tenant_key,
        name: body.name,
        userIds: body.user_ids,
        appIds: body.app_ids,
        chatMode: body.chat_mode,
        groupMessageType: body.group_message_type,
      });
      return json(200, { chat_id: chat.chatId });
    },
  },
  {
    method: 'POST',
    pattern: '/chats/:chat_id/members',
    handle: (deps, req, p) => {
      const body = parse(schemas.members, req.body);
      const chat = groupChat(deps, p.chat_id);
      checkMembers(deps, chat.tenantKey, body.user_ids, body.app_ids);
      const deliveries = addMembers(deps, chat, { userIds: body.user_ids, appIds: body.app_ids, operatorUserId: body.operator_user_id });
      return json(200, { deliveries });
    },
  },
  {
    method: 'DELETE',
    pattern: '/chats/:chat_id/members',
    handle: (deps, req, p) => {
      const body = parse(schemas.members, req.body);
      const chat = groupChat(deps, p.chat_id);
      const deliveries = removeMembers(deps, chat, { userIds: body.user_ids, appIds: body.app_ids, operatorUserId: body.operator_user_id });
      return json(200, { deliveries });
    },
  },
  {
    method: 'GET',
    pattern: '/chats/:chat_id/messages',
    handle: (deps, _req, p) => {
      if (!deps.dir.chats.has(p.chat_id)) throw notFound(`chat ${p.chat_id}`);
      return json(200, { messages: deps.dir.messagesOf(p.chat_id).map((m) => messageView(deps, m)) });
    },
  },
  {
    method: 'GET',
    pattern: '/p2p',
    handle: (deps, req) => {
      const app = requireApp(deps, req.query.get('app_id') ?? '');
      const userId = req.query.get('user_id') ?? '';
      const user = deps.dir.users.get(userId);
      if (!user) throw notFound(`user ${userId}`);
      if (user.tenantKey !== app.tenantKey) throw new ControlError(400, 'invalid_request', 'user and app are in different tenants');
      return json(200, { chat_id: deps.dir.p2pChat(app, user).chatId });
    },
  },
  {
    method: 'POST',
    pattern: '/p2p/enter',
    handle: (deps, req) => {
      const body = parse(schemas.p2pEnter, req.body);
      return json(200, enterP2p(deps, requireApp(deps, body.app_id), body.user_id));
    },
  },
  {
    method: 'POST',
    pattern: '/messages/:message_id/recall',
    handle: (deps, req, p) => json(200, recallByUser(deps, p.message_id, parse(schemas.recall, req.body).user_id)),
  },
  {
    method: 'POST',
    pattern: '/messages/:message_id/card-action',
    handle: async (deps, req, p) => {
      const body = parse(schemas.cardAction, req.body);
      return json(200, await clickCardButton(deps, { messageId: p.message_id, userId: body.user_id, index: body.index, value: body.value }));
    },
  },
  {
    method: 'GET',
    pattern: '/cards',
    handle: (deps, req) => {
      const appId = req.query.get('app_id') || undefined;
      const cards = [...deps.dir.cards.values()].filter((c) => !appId || c.appId === appId);
      return json(200, { cards: cards.map((c) => cardView(deps, c, false)) });
    },
  },
  {
    method: 'GET',
    pattern: '/cards/:card_id',
    handle: (deps, _req, p) => {
      const card = deps.dir.cards.get(p.card_id);
      if (!card) throw notFound(`card ${p.card_id}`);
      return json(200, cardView(deps, card, true));
    },
  },
  {
    method: 'POST',
    pattern: '/messages',
    handle: (deps, req) => {
      const body = parse(schemas.message, req.body);
      const result = postUserMessage(deps.dir, deps.delivery, {
        userId: body.user_id,
        appId: body.app_id,
        chatId: body.chat_id,
        text: body.text,
        post: body.post,
        image: body.image,
        file: body.file,
        audio: body.audio,
        media: body.media,
        sticker: body.sticker as Record<string, never> | undefined,
        mergeForward: body.merge_forward,
        mentions: body.mentions,
        rootId: body.root_id,
        replyTo: body.reply_to,
      });
      return json(200, result);
    },
  },
  {
    method: 'GET',
    pattern: '/media/:key',
    handle: (deps, _req, p) => {
      const blob = deps.dir.media.get(p.key);
      if (!blob) throw notFound(`media ${p.key}`);
      return { status: 200, stream: blobStream(blob), headers: { 'content-type': blob.contentType, 'content-length': String(blob.size) } };
    },
  },
  {
    method: 'GET',
    pattern: '/uploads',
    handle: (deps, req) => {
      const app = requireApp(deps, req.query.get('app_id') ?? '');
      const uploads = [...deps.dir.media.values()].filter((b) => b.owner.type === 'app' && b.owner.id === app.appId);
      return json(200, { uploads: uploads.map(blobView) });
    },
  },
  {
    method: 'GET',
    pattern: '/registrations',
    handle: (deps, req) => json(200, { registrations: deps.registrations.list(req.query.get('status') ?? undefined) }),
  },
  {
    method: 'POST',
    pattern: '/registrations/:user_code/approve',
    handle: (deps, req, p) => {
      const body = parse(schemas.approve, req.body);
      // The QR URL's `name` (the pre-filled bot name) wins over an explicit app_name.
      const appName = body.name?.trim() || body.app_name?.trim() || undefined;
      return json(200, deps.registrations.approve(p.user_code, { userId: body.user_id, appName }));
    },
  },
  {
    method: 'POST',
    pattern: '/registrations/:user_code/deny',
    handle: (deps, _req, p) => {
      deps.registrations.deny(p.user_code);
      return json(204, undefined);
    },
  },
  {
    method: 'GET',
    pattern: '/deliveries',
    handle: (deps, req) => json(200, { deliveries: deps.delivery.list(req.query.get('app_id') || undefined) }),
  },
  { method: 'POST', pattern: '/faults', handle: addFault },
  { method: 'GET', pattern: '/faults', handle: (deps) => json(200, { faults: deps.faults.list().map(faultView) }) },
  {
    method: 'DELETE',
    pattern: '/faults',
    handle: (deps) => {
      deps.faults.clear();
      return json(204, undefined);
    },
  },
  {
    method: 'DELETE',
    pattern: '/faults/:id',
    handle: (deps, _req, p) => {
      if (!deps.faults.remove(p.id)) throw notFound(`fault ${p.id}`);
      return json(204, undefined);
    },
  },
];

const errorReply = (status: number, code: string, message: string) => json(status, { error: { code, message } });

/** `${url}/_control/*`; `path` is below `/_control`. Body is the parsed JSON (undefined if absent). */
export async function handleControl(deps: ControlDeps, req: ControlRequest): Promise<Reply> {
  let pathKnown = false;
  for (const route of routes) {
    const params = matchPath(route.pattern, req.path);
    if (!params) continue;
    pathKnown = true;
    if (route.method !== req.method) continue;
    try {
      return await route.handle(deps, req, params);
    } catch (error) {
      if (error instanceof ControlError) return errorReply(error.status, error.code, error.message);
      if (error instanceof InputError) return errorReply(error.kind === 'not_found' ? 404 : 400, error.kind, error.message);
      if (error instanceof RegistrationError) {
        return errorReply(error.kind === 'not_found' ? 404 : 409, error.kind, error.message);
      }
      throw error;
    }
  }
  return pathKnown
    ? errorReply(405, 'invalid_request', `${req.method} is not supported on /_control${req.path}`)
    : errorReply(404, 'not_found', `no control endpoint /_control${req.path}`);
}
