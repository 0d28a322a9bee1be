import { z } from 'zod';
import { agentContextSchema, attachmentSchema } from './attachments';
import { personSchema, timestamp } from './shared';

export const createSessionInput = z.object({
  agent_id: z.uuid({ message: 'agent_id must be an agent id' }),
  title: z.string().trim().min(1).max(200).optional(),
});
export const sendMessageInput = z.object({
  content: z.string().refine((s) => s.trim().length > 0, 'Message is empty').pipe(z.string().max(20_000, 'Message is at most 20,000 characters')),
});

export const chatChannels = ['web', 'lark'] as const;
export const taskStatuses = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;

/**
 * Where a Lark session's messages come from: a direct chat or a group, the chat itself or one topic
 * (thread) in it. `closed`: `/new` or the bot leaving the group ended it; it keeps its history.
 */
export const larkSessionSourceSchema = z.object({
  chat_type: z.enum(['p2p', 'group']),
  topic: z.boolean(),
  closed: z.boolean(),
});

export const chatSessionSchema = z.object({
  id: z.string(),
  agent_id: z.string(),
  title: z.string().nullable(),
  channel: z.enum(chatChannels),
  creator: personSchema,
  created_at: timestamp,
  updated_at: timestamp,
  /** Null for web chats. */
  lark: larkSessionSourceSchema.nullable(),
});

/** `author` is null for the agent's replies. */
export const chatMessageSchema = z.object({
  id: z.string(),
  role: z.enum(['user', 'assistant']),
  /** Empty for a question recalled in Lark. */
  content: z.string(),
  /** The asker recalled this question in Lark: its content is gone. */
  recalled: z.boolean().optional(),
  /** 'stopped': an answer cut short by its asker (Stop); it holds what the agent had written. */
  end_reason: z.enum(['stopped']).nullable().optional(),
  author: personSchema.nullable(),
  /** Images and files sent with the message (or produced by the agent for its answer), in order. */
  attachments: z.array(attachmentSchema).optional(),
  /** For a question: what the agent was given around it (quoted message, recent conversation). */
  context: agentContextSchema.nullable().optional(),
  created_at: timestamp,
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;

export const agentTaskSchema = z.object({
  id: z.string(),
  status: z.enum(taskStatuses),
  error: z.string().nullable(),
  /** What went wrong in the agent's own terms: workspace owners and admins only, null for others. */
  error_detail: z.string().nullable(),
  /** The short id a member quotes to an admin; the same one the Lark error card shows. */
  reference: z.string(),
  trigger_message_id: z.string().nullable(),
  created_at: timestamp,
});
export type AgentTask = z.infer<typeof agentTaskSchema>;

export const sessionsResponse = z.object({ sessions: z.array(chatSessionSchema) });
export const sessionResponse = z.object({ session: chatSessionSchema });

/** A session's transcript and its latest runs (the UI shows a run's progress and failure). */
export const messagesResponse = z.object({ messages: z.array(chatMessageSchema), tasks: z.array(agentTaskSchema) });
export type MessagesResponse = z.infer<typeof messagesResponse>;

/** An offline agent keeps the message and runs nothing: `task` is null. */
export const sendMessageResponse = z.object({
  message: chatMessageSchema,
  task: z.object({ id: z.string(), status: z.enum(taskStatuses) }).nullable(),
  outcome: z.enum(['enqueued', 'agent_offline']),
});
