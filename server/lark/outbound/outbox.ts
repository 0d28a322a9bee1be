import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import type { OutboxKind } from '../../db/schema';

/**
 * NOTIFYed (by a trigger, on commit) for every statement that writes outbox rows, so idle deliverers
 * claim them at once instead of at their next poll.
 */
export const OUTBOX_WAKE_CHANNEL = 'larkspur_outbox';

export type OutboxTarget =
  | { receiveIdType: 'chat_id' | 'open_id'; receiveId: string }
  | { replyToMessageId: string; replyInThread: boolean };

/** The streamed cards of a run (lark_stream_card rows of that task and attempt). */
export type StreamRef = { taskId: string; attempt: number };
/** The "Typing" reaction put on the question while the answer was written, to take off once it is delivered. */
export type TypingRef = { messageId: string; reactionId: string };
/** What a run left behind in Lark besides its answer. */
export type RunTraces = {
  stream?: StreamRef | null;
  typing?: TypingRef | null;
  /** The question was typed in the web chat: it is posted to Lark first, and this waits for it. */
  afterWebQuestion?: boolean;
  /** How many files the agent made for the answer; when 0 the delivery does not look for any (unset: it looks). */
  agentFiles?: number;
};

export type OutboxBody =
  | ({ kind: 'agent_reply'; text: string } & RunTraces)
  | ({ kind: 'agent_error'; agentName: string; reference: string; locale?: string | null; taskId?: string } & RunTraces)
  /** A run its asker stopped: `text` is what it had written (added by the run when it hands over). */
  | ({ kind: 'agent_stopped'; taskId: string; stoppedBy: string | null; text?: string } & RunTraces)
  /** A recalled question: its answer (sent, or streaming) is taken back. */
  | ({ kind: 'retract_answer'; taskId: string | null; questionMessageId: string } & RunTraces)
  | { kind: 'binding_prompt'; agentName: string; workspaceName: string }
  | { kind: 'agent_offline'; agentName: string }
  | { kind: 'agent_archived'; agentName: string }
  | { kind: 'issue_created'; identifier: string; title: string; url: string }
  | { kind: 'issue_usage' }
  /** `/new` was done: the chat (or topic) starts a fresh conversation. */
  | { kind: 'session_reset' }
  /** `/unbind` asks first: a card whose Unlink button carries `{a:'unbind', binding: bindingId}`. */
  | { kind: 'unbind_confirm'; bindingId: string; workspaceName: string }
  /** After `/unbind`: the link to `workspaceName` was removed, or (null) there was none. */
  | { kind: 'unbound'; workspaceName: string | null }
  /** The bot joined a group and says how to use it. */
  | { kind: 'bot_intro'; agentName: string }
  /** A slash command the bot does not know (`command`, as typed), or a plain request for the list. */
  | { kind: 'command_usage'; command?: string | null }
  /** A question a member typed in the web chat of a Lark session, posted by the bot in their name. */
  | { kind: 'web_question'; authorName: string; text: string };

export type OutboxInput = {
  workspaceId: string;
  installationId: string;
  target: OutboxTarget;
  body: OutboxBody;
  larkOpenId?: string;
  /** The agent run the message belongs to. */
  taskId?: string;
  /** Held back this long (a stop or retraction waits briefly for the run to hand over what it wrote). */
  delaySeconds?: number;
};

/** The VALUES of one outbox row, for the single statement that writes it (here or inside a larger one). */
export function outboxRowValues(input: OutboxInput) {
  const kind: OutboxKind = input.body.kind;
  const direct = 'receiveId' in input.target ? input.target : null;
  const reply = 'replyToMessageId' in input.target ? input.target : null;
  // Typed, so the tuple also works as a row source (INSERT … SELECT FROM VALUES).
  return sql`(${input.workspaceId}::uuid, ${input.installationId}::uuid, ${kind}::text, ${direct?.receiveIdType ?? null}::text, ${direct?.receiveId ?? null}::text,
    ${reply?.replyToMessageId ?? null}::text, ${reply?.replyInThread ?? false}::boolean, ${input.larkOpenId ?? null}::text, ${JSON.stringify(input.body)}::jsonb,
    ${input.taskId ?? null}::uuid, now() + make_interval(secs => ${input.delaySeconds ?? 0}))`;
}

export const OUTBOX_COLUMNS = sql.raw(
  'lark_outbox (workspace_id, installation_id, kind, receive_id_type, receive_id, reply_to_message_id, reply_in_thread, lark_open_id, body, task_id, next_attempt_at)',
);

/**
 * Writes a message to Lark into the outbox in the caller's transaction, so the message exists
 * exactly when its cause does. Returns null when a binding prompt for this user is already waiting
 * (at most one live prompt per user).
 */
export async function enqueueOutboxMessage(tx: DbOrTx, input: OutboxInput): Promise<string | null> {
  const res = await tx.execute<{ id: string }>(sql`INSERT INTO ${OUTBOX_COLUMNS} VALUES ${outboxRowValues(input)} ON CONFLICT DO NOTHING RETURNING id`);
  return res.rows[0]?.id ?? null;
}

/** Outbox rows by status, for the worker's gauges. */
export async function countOutboxByStatus(db: DbOrTx): Promise<Record<string, number>> {
  const res = await db.execute<{ status: string; n: number }>(sql`SELECT status, count(*)::int AS n FROM lark_outbox GROUP BY status`);
  return Object.fromEntries(res.rows.map((r) => [r.status, r.n]));
}
