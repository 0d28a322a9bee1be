import { z } from 'zod';

export const attachmentKinds = ['image', 'file', 'audio', 'video', 'sticker'] as const;
export const attachmentStates = ['pending', 'stored', 'failed'] as const;
/**
 * Why an attachment has no bytes: larger than this server accepts, gone or never visible to the
 * bot, not downloadable at all (stickers, some forwarded media), or every download attempt failed.
 */
export const attachmentFailures = ['too_large', 'not_found', 'forbidden', 'not_downloadable', 'download_failed'] as const;
/** Sent with the message itself, part of the message it quotes, of a forwarded bundle, or produced by the agent. */
export const attachmentSources = ['message', 'quoted', 'forwarded', 'agent'] as const;

export type AttachmentKind = (typeof attachmentKinds)[number];
export type AttachmentFailure = (typeof attachmentFailures)[number];
export type AttachmentSource = (typeof attachmentSources)[number];

export const attachmentSchema = z.object({
  id: z.string(),
  kind: z.enum(attachmentKinds),
  source: z.enum(attachmentSources),
  file_name: z.string().nullable(),
  content_type: z.string().nullable(),
  size_bytes: z.number().nullable(),
  state: z.enum(attachmentStates),
  failure: z.enum(attachmentFailures).nullable(),
  /** Where members download it (same origin, member-only); null until its bytes are stored. */
  url: z.string().nullable(),
});
export type AttachmentView = z.infer<typeof attachmentSchema>;

/** One message of the conversation around a question, as the agent was given it. */
export const contextMessageSchema = z.object({
  sender: z.string(),
  text: z.string(),
  sent_at: z.string().nullable(),
});
export type ContextMessage = z.infer<typeof contextMessageSchema>;

/**
 * What the agent was given besides the question: the message it quotes, the messages of a forwarded
 * bundle, the recent conversation of the group or topic. `unavailable` names what could not be
 * fetched (the answer went ahead without it).
 */
export const agentContextSchema = z.object({
  quoted: contextMessageSchema.nullable(),
  forwarded: z.array(contextMessageSchema),
  recent: z.array(contextMessageSchema),
  recent_scope: z.enum(['chat', 'thread']).nullable(),
  unavailable: z.array(z.enum(['quoted', 'forwarded', 'recent'])),
});
export type AgentContext = z.infer<typeof agentContextSchema>;
