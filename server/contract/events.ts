import { z } from 'zod';
import { taskStatuses } from './chat';

/** Change notices streamed to the browser; they carry ids only and the UI refetches what changed. */
export const workspaceEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('chat.message.created'), session_id: z.string(), message_id: z.string() }),
  /** A message changed in place (a question recalled in Lark). */
  z.object({ type: z.literal('chat.message.updated'), session_id: z.string(), message_id: z.string() }),
  z.object({ type: z.literal('task.updated'), session_id: z.string(), task_id: z.string(), status: z.enum(taskStatuses) }),
  /** A running answer grew: `text` continues it from character `offset` (the whole answer is stored once, when it is complete). */
  z.object({ type: z.literal('task.delta'), session_id: z.string(), task_id: z.string(), offset: z.number().int().nonnegative(), text: z.string() }),
  z.object({ type: z.literal('issue.created'), issue_id: z.string() }),
  z.object({ type: z.literal('issue.updated'), issue_id: z.string() }),
  z.object({ type: z.literal('members.changed') }),
  z.object({ type: z.literal('agents.changed') }),
  z.object({ type: z.literal('lark.installations.changed') }),
  z.object({ type: z.literal('lark.registration.changed'), session_id: z.string() }),
  /** The server's listener reconnected: events may have been missed, refetch everything. */
  z.object({ type: z.literal('resync') }),
]);
export type WorkspaceEvent = z.infer<typeof workspaceEventSchema>;
