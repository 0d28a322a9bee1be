import { z } from 'zod';
import { timestamp } from './shared';

export const larkRegions = ['feishu', 'lark'] as const;
export type LarkRegion = (typeof larkRegions)[number];
export const larkConnectionStates = ['disconnected', 'connecting', 'connected', 'backoff'] as const;
export type LarkConnectionState = (typeof larkConnectionStates)[number];

export const beginInstallInput = z.object({
  agent_id: z.uuid({ message: 'agent_id must be an agent id' }),
  region: z.enum(larkRegions, { message: 'region must be feishu or lark' }).default('feishu'),
});
export const redeemBindingInput = z.object({ token: z.string().min(1, 'token is required').max(200) });
export const bindingPreviewQuery = redeemBindingInput;

export const larkInstallationSchema = z.object({
  id: z.string(),
  agent_id: z.string(),
  /** `avatar` is the agent's colour, `#RRGGBB`. */
  agent: z.object({ name: z.string(), avatar: z.string() }),
  app_id: z.string(),
  region: z.enum(larkRegions),
  /** The bot's page in its brand's developer console (or in the simulator the deployment points at). */
  console_url: z.string(),
  status: z.enum(['active', 'revoked']),
  installed_at: timestamp,
  connection: z.object({ state: z.enum(larkConnectionStates), last_event_at: timestamp.nullable() }),
  can_manage: z.boolean(),
  /** The latest message Lark refused for this bot; `code` is Lark's error code when it gave one. */
  last_delivery_error: z.object({ code: z.number().nullable(), message: z.string(), at: timestamp }).nullable(),
});
export type LarkInstallation = z.infer<typeof larkInstallationSchema>;

export const larkInstallationsResponse = z.object({
  configured: z.boolean(),
  install_supported: z.boolean(),
  installations: z.array(larkInstallationSchema),
});

export const larkDropReasons = [
  'invalid_event',
  'revoked_installation',
  'duplicate',
  'not_addressed_in_group',
  'non_workspace_member',
  'unsupported_event',
  'unbound_user',
  'dispatch_failed',
] as const;
export type LarkDropReason = (typeof larkDropReasons)[number];

/** An event the bot received and let go. Routing data only: Larkspur keeps no content of it. */
export const larkInboundDropSchema = z.object({
  /** One of `larkDropReasons`, or a newer reason this client does not know yet. */
  reason: z.string(),
  chat_id: z.string().nullable(),
  /** The chat's name in Lark, when the bot has learned it. */
  chat_name: z.string().nullable(),
  event_type: z.string(),
  received_at: timestamp,
});
export type LarkInboundDrop = z.infer<typeof larkInboundDropSchema>;

export const LARK_DROPS_PAGE_DEFAULT = 50;
export const LARK_DROPS_PAGE_MAX = 200;

/**
 * Where a page of drops ends: the last row's receive time in microseconds since the epoch (what
 * Postgres stores; a JS Date would round it to milliseconds) and its id, which breaks ties.
 */
export type LarkDropsCursor = { receivedAtMicros: string; id: string };

export const encodeLarkDropsCursor = (cursor: LarkDropsCursor) => `${cursor.receivedAtMicros}-${cursor.id}`;

/** Clients pass `next_cursor` back unchanged; anything else is refused rather than guessed at. */
const larkDropsCursor = z.string().transform((raw, ctx): LarkDropsCursor => {
  const match = /^(\d{1,17})-([1-9]\d{0,17})$/.exec(raw);
  if (match) return { receivedAtMicros: match[1], id: match[2] };
  ctx.addIssue({ code: 'custom', message: 'before must be the next_cursor of a previous page' });
  return z.NEVER;
});

export const larkInboundDropsQuery = z.object({
  before: larkDropsCursor.optional(),
  limit: z.coerce
    .number({ message: 'limit must be a number' })
    .int('limit must be a whole number')
    .min(1, 'limit must be at least 1')
    .max(LARK_DROPS_PAGE_MAX, `limit must be at most ${LARK_DROPS_PAGE_MAX}`)
    .default(LARK_DROPS_PAGE_DEFAULT),
});

/** Newest first; `next_cursor` is null on the last page. */
export const larkInboundDropsResponse = z.object({ drops: z.array(larkInboundDropSchema), next_cursor: z.string().nullable() });

export const larkInstallBeginSchema = z.object({
  session_id: z.string(),
  qr_code_url: z.string(),
  expires_in_seconds: z.number(),
  poll_interval_seconds: z.number(),
});
export type LarkInstallBegin = z.infer<typeof larkInstallBeginSchema>;

export const larkInstallErrorReasons = [
  'expired',
  'access_denied',
  'lark_protocol_error',
  'bot_info_failed',
  'installation_conflict',
  'installer_bind_failed',
  'internal_error',
] as const;
export type LarkInstallErrorReason = (typeof larkInstallErrorReasons)[number];

export const larkInstallStatusSchema = z.object({
  status: z.enum(['pending', 'success', 'error']),
  installation_id: z.string().optional(),
  /** One of `larkInstallErrorReasons`, or a newer reason this client does not know yet. */
  error_reason: z.string().nullish(),
  error_message: z.string().nullish(),
});

export const larkBindingRedeemedSchema = z.object({
  workspace: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
  agent: z.object({ id: z.string(), name: z.string() }),
});
export type LarkBindingRedeemed = z.infer<typeof larkBindingRedeemedSchema>;

/** What a binding link would connect, shown before anyone confirms. Never the token or anything derived from it. */
export const larkBindingPreviewSchema = z.object({
  /** The name Lark reports for the Lark user the link was made for; null when Lark did not answer. */
  lark_user: z.object({ name: z.string().nullable() }),
  agent: z.object({ id: z.string(), name: z.string() }),
  workspace: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
  /** The signed-in account that the Lark user would be connected to. */
  account: z.object({ name: z.string(), email: z.string() }),
  expires_at: timestamp,
});
export type LarkBindingPreview = z.infer<typeof larkBindingPreviewSchema>;

/**
 * A Lark account linked to a workspace member through one bot. `lark_user.name` is the person's Lark
 * name when the bot learned it; `open_id_hint` is a shortened open_id to tell unnamed accounts apart.
 */
export const larkLinkedAccountSchema = z.object({
  id: z.string(),
  installation_id: z.string(),
  bot: z.object({ agent_id: z.string(), name: z.string(), avatar: z.string(), region: z.enum(larkRegions), status: z.enum(['active', 'revoked']) }),
  lark_user: z.object({ name: z.string().nullable(), open_id_hint: z.string() }),
  member: z.object({ user_id: z.string(), name: z.string(), email: z.string() }),
  bound_at: timestamp,
});
export type LarkLinkedAccount = z.infer<typeof larkLinkedAccountSchema>;

/** Newest link first. */
export const larkLinkedAccountsResponse = z.object({ accounts: z.array(larkLinkedAccountSchema) });
