import type { IncomingHttpHeaders } from 'node:http';
import { createCard, updateCard, updateCardSettings, updateElementContent } from './cardkit-api';
import type { CardRuntime } from './cards';
import { getChat } from './chats-api';
import type { SimulatorConfig } from './config';
import type { DeliveryEngine } from './delivery';
import type { FaultStore } from './faults';
import { json, matchPath, parseJsonObject, type Reply } from './http';
import { getMessage, listMessages } from './history-api';
import { botInfo, contactUser } from './identity-api';
import { deleteMessage, patchCard, replyToMessage, sendMessage, type IdempotencyStore } from './im-api';
import { getMessageResource, uploadFile, uploadImage } from './media-api';
import { addReaction, deleteReaction, listReactions } from './reactions-api';
import { larkError, larkErrorReply, larkFail, type LarkError } from './lark-errors';
import type { RateLimiter } from './rate-limit';
import type { App, Brand, Directory } from './state';
import type { TokenStore } from './tokens';

export type OpenApiRequest = {
  brand: Brand;
  method: string;
  /** Path below the brand root, without query: `/open-apis/...`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body was over what the server reads for this path (uploads: 64 MB); `body` is then empty. */
  bodyTooLarge?: boolean;
};

export type RestDeps = {
  dir: Directory;
  tokens: TokenStore;
  faults: FaultStore;
  limiter: RateLimiter;
  config: SimulatorConfig;
  idempotency: IdempotencyStore;
  cards: CardRuntime;
  delivery: DeliveryEngine;
};

export type Call = { deps: RestDeps; req: OpenApiRequest; app: App; params: Record<string, string> };
type Route = { method: string; pattern: string; name: string; handle(call: Call): Reply };

// --- authentication -------------------------------------------------------------------------

function authenticate(deps: RestDeps, req: OpenApiRequest): { app: App } | { error: LarkError } {
  const header = req.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) return { error: larkError('token_missing') };
  const token = match[1];
  if (!/^[tua]-/.test(token)) return { error: larkError('token_bad_format') };
  const appId = deps.tokens.verify(token, req.brand);
  const app = appId ? deps.dir.apps.get(appId) : undefined;
  return app ? { app } : { error: larkError('token_invalid') };
}

function issueTenantToken(deps: RestDeps, req: OpenApiRequest, body: Record<string, unknown> | undefined): Reply {
  if (!body) return larkFail('bad_json');
  const { app_id: appId, app_secret: appSecret } = body;
  const app = typeof appId === 'string' ? deps.dir.apps.get(appId) : undefined;
  // An app belongs to one brand: the other brand's host does not know it.
  if (!app || app.brand !== req.brand) return larkFail('app_not_found');
  if (appSecret !== app.appSecret) return larkFail('app_secret_invalid');
  const { token, expire } = deps.tokens.issue(app.appId, app.brand);
  return json(200, { code: 0, msg: 'ok', tenant_access_token: token, expire });
}

// --- rate limits ----------------------------------------------------------------------------

function appRateLimit(deps: RestDeps, app: App, routeName: string): Reply | undefined {
  const { rateLimitPerSecond, rateLimitPerMinute } = deps.config;
  const key = `${app.appId}|${routeName}`;
  for (const [limit, windowMs] of [
    [rateLimitPerSecond, 1000],
    [rateLimitPerMinute, 60_000],
  ] as const) {
    const decision = deps.limiter.hit(key, limit, windowMs);
    if (!decision.ok) {
      return larkErrorReply(larkError('rate_limited'), {
        'x-ogw-ratelimit-limit': String(limit),
        'x-ogw-ratelimit-reset': String(decision.resetSeconds),
      });
    }
  }
  return undefined;
}

const routes: Route[] = [
  { method: 'POST', pattern: '/open-apis/im/v1/messages', name: 'im.message.create', handle: sendMessage },
  { method: 'GET', pattern: '/open-apis/im/v1/messages', name: 'im.message.list', handle: listMessages },
  { method: 'GET', pattern: '/open-apis/im/v1/messages/:message_id', name: 'im.message.get', handle: getMessage },
  {
    method: 'GET',
    pattern: '/open-apis/im/v1/messages/:message_id/resources/:file_key',
    name: 'im.message.resource.get',
    handle: getMessageResource,
  },
  { method: 'POST', pattern: '/open-apis/im/v1/images', name: 'im.image.create', handle: uploadImage },
  { method: 'POST', pattern: '/open-apis/im/v1/files', name: 'im.file.create', handle: uploadFile },
  { method: 'POST', pattern: '/open-apis/im/v1/messages/:message_id/reply', name: 'im.message.reply', handle: replyToMessage },
  { method: 'PATCH', pattern: '/open-apis/im/v1/messages/:message_id', name: 'im.message.patch', handle: patchCard },
  { method: 'DELETE', pattern: '/open-apis/im/v1/messages/:message_id', name: 'im.message.delete', handle: deleteMessage },
  { method: 'POST', pattern: '/open-apis/im/v1/messages/:message_id/reactions', name: 'im.message.reaction.create', handle: addReaction },
  { method: 'GET', pattern: '/open-apis/im/v1/messages/:message_id/reactions', name: 'im.message.reaction.list', handle: listReactions },
  {
    method: 'DELETE',
    pattern: '/open-apis/im/v1/messages/:message_id/reactions/:reaction_id',
    name: 'im.message.reaction.delete',
    handle: deleteReaction,
  },
  { method: 'GET', pattern: '/open-apis/im/v1/chats/:chat_id', name: 'im.chat.get', handle: getChat },
  { method: 'POST', pattern: '/open-apis/cardkit/v1/cards', name: 'cardkit.card.create', handle: createCard },
  { method: 'PUT', pattern: '/open-apis/cardkit/v1/cards/:card_id', name: 'cardkit.card.update', handle: updateCard },
  { method: 'PATCH', pattern: '/open-apis/cardkit/v1/cards/:card_id/settings', name: 'cardkit.card.settings', handle: updateCardSettings },
  {
    method: 'PUT',
    pattern: '/open-apis/cardkit/v1/cards/:card_id/elements/:element_id/content',
    name: 'cardkit.card.element.content',
    handle: updateElementContent,
  },
  { method: 'GET', pattern: '/open-apis/bot/v3/info', name: 'bot.info', handle: botInfo },
  { method: 'GET', pattern: '/open-apis/contact/v3/users/:user_id', name: 'contact.user.get', handle: contactUser },
];

/** Uploads may carry up to 30 MB of file: the server reads up to this much for them. */
export const uploadBodyMaxBytes = 64 * 1024 * 1024;
export const isUploadPath = (method: string, path: string) =>
  method === 'POST' && (path === '/open-apis/im/v1/images' || path === '/open-apis/im/v1/files');

export async function handleOpenApi(deps: RestDeps, req: OpenApiRequest): Promise<Reply> {
  if (req.path === '/open-apis/auth/v3/tenant_access_token/internal') {
    if (req.method !== 'POST') return larkFail('not_found');
    const body = parseJsonObject(req.body);
    const appId = typeof body?.app_id === 'string' ? body.app_id : undefined;
    return (await deps.faults.applyRest({ path: req.path, method: req.method, appId })) ?? issueTenantToken(deps, req, body);
  }
  let matched: { route: Route; params: Record<string, string> } | undefined;
  for (const route of routes) {
    const params = route.method === req.method ? matchPath(route.pattern, req.path) : undefined;
    if (params) {
      matched = { route, params };
      break;
    }
  }
  if (!matched) return larkFail('not_found');
  const auth = authenticate(deps, req);
  if ('error' in auth) return larkErrorReply(auth.error);
  const injected = await deps.faults.applyRest({ path: req.path, method: req.method, appId: auth.app.appId });
  if (injected) return injected;
  const limited = appRateLimit(deps, auth.app, matched.route.name);
  if (limited) return limited;
  return matched.route.handle({ deps, req, app: auth.app, params: matched.params });
}
