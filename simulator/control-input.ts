import { z } from 'zod';
import { brands } from './state';

export class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: 'invalid_request' | 'not_found' | 'conflict',
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ControlError(404, 'not_found', `${what} not found`);

export function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const message = result.error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ');
  throw new ControlError(400, 'invalid_request', message);
}

const id = z.string().min(1);
const name = z.string().trim().min(1).max(100);
const base64 = z.string().min(1).regex(/^[A-Za-z0-9+/=\s]+$/, 'must be base64');
const durationMs = z.number().int().min(20).max(600_000);

/** The kinds of message a user can send; exactly one per message. */
const messageKinds = ['text', 'post', 'image', 'file', 'audio', 'media', 'sticker', 'merge_forward'] as const;

export const schemas = {
  tenant: z.object({ brand: z.enum(brands), name }),
  user: z.object({ tenant_key: id, name }),
  app: z.object({ tenant_key: id, name, owner_user_id: id.optional() }),
  chat: z
    .object({
      tenant_key: id,
      name,
      user_ids: z.array(id).default([]),
      app_ids: z.array(id).default([]),
      chat_mode: z.enum(['group', 'topic']).default('group'),
      group_message_type: z.enum(['chat', 'thread']).optional(),
    })
    .refine((b) => !(b.chat_mode === 'topic' && b.group_message_type === 'chat'), 'a topic group is always in thread mode'),
  members: z
    .object({ user_ids: z.array(id).default([]), app_ids: z.array(id).default([]), operator_user_id: id.optional() })
    .refine((b) => b.user_ids.length + b.app_ids.length > 0, 'name at least one user_id or app_id'),
  recall: z.object({ user_id: id }),
  cardAction: z
    .object({ user_id: id, index: z.number().int().min(0).optional(), value: z.unknown().optional() })
    .refine((b) => (b.index === undefined) !== (b.value === undefined), 'give exactly one of index or value'),
  p2pEnter: z.object({ app_id: id, user_id: id }),
  approve: z.object({ user_id: id, app_name: z.string().max(100).optional(), name: z.string().max(100).optional() }),
  message: z
    .object({
      user_id: id,
      app_id: id.optional(),
      chat_id: id.optional(),
      text: z.string().min(1).max(150_000).optional(),
      post: z
        .object({
          title: z.string().optional(),
          content: z.array(z.array(z.looseObject({ tag: z.string() }))).min(1),
        })
        .optional(),
      image: z
        .object({ sample: z.enum(['screenshot', 'photo']).optional(), data_base64: base64.optional() })
        .refine((i) => !(i.sample && i.data_base64), 'give sample or data_base64, not both')
        .optional(),
      file: z
        .object({
          sample: z.enum(['notes', 'csv', 'json', 'pdf']).optional(),
          data_base64: base64.optional(),
          file_name: z.string().trim().min(1).max(250).optional(),
          // A filler of exactly this many bytes (for size limits), generated when read.
          size_bytes: z.number().int().min(1).max(200 * 1024 * 1024).optional(),
        })
        .refine((f) => [f.sample, f.data_base64, f.size_bytes].filter((v) => v !== undefined).length <= 1, 'give at most one of sample, data_base64 or size_bytes')
        .optional(),
      audio: z.object({ duration_ms: durationMs.optional(), speech_to_text: z.string().max(10_000).optional() }).optional(),
      media: z.object({ duration_ms: durationMs.optional() }).optional(),
      sticker: z.object({}).optional(),
      merge_forward: z.object({ message_ids: z.array(id).min(1).max(100) }).optional(),
      mentions: z
        .array(z.object({ app_id: id.optional(), user_id: id.optional() }))
        .refine((list) => list.every((m) => !!m.app_id !== !!m.user_id), 'each mention names exactly one app_id or user_id')
        .optional(),
      root_id: id.optional(),
      reply_to: id.optional(),
    })
    .refine((b) => !!b.app_id !== !!b.chat_id, 'give exactly one of app_id (p2p) or chat_id (group)')
    .refine((b) => messageKinds.filter((kind) => b[kind] !== undefined).length === 1, `give exactly one of ${messageKinds.join(', ')}`)
    .refine((b) => b.mentions === undefined || b.text !== undefined || b.post !== undefined, 'mentions go with text or post')
    .refine((b) => !(b.root_id && b.reply_to), 'give root_id (a reply in the thread) or reply_to (a quote), not both'),
  fault: z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('rest_error'),
      app_id: id.optional(),
      path: id,
      method: z.string().optional(),
      code: z.number().int(),
      http_status: z.number().int().min(100).max(599).default(400),
      msg: z.string().optional(),
      count: z.number().int().default(1),
    }),
    z.object({
      kind: z.literal('rest_delay'),
      app_id: id.optional(),
      path: id,
      method: z.string().optional(),
      ms: z.number().int().min(0).max(120_000),
      count: z.number().int().default(1),
    }),
    z.object({ kind: z.literal('duplicate_deliveries'), app_id: id.optional(), count: z.number().int().min(1).max(20) }),
    z.object({ kind: z.literal('chunk_events'), app_id: id.optional(), chunk_bytes: z.number().int().min(1) }),
    z.object({
      kind: z.literal('push_client_config'),
      app_id: id.optional(),
      PingInterval: z.number().int().min(1),
      ReconnectCount: z.number().int(),
      ReconnectInterval: z.number().int().min(0),
      ReconnectNonce: z.number().int().min(0),
    }),
    z.object({
      kind: z.enum(['drop_connections', 'expire_tokens', 'silent_connection', 'deny_contact_scope']),
      app_id: id.optional(),
    }),
  ]),
};
