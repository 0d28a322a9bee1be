import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import { perDb, StatementGroup } from '../../db/statement-group';

/** A streamed card as the final delivery sees it. */
export type StreamCardRow = { id: string; attempt: number; part: number; card_id: string; lark_message_id: string | null; state: string };

export type NewStreamCard = { workspaceId: string; installationId: string; taskId: string; attempt: number; part: number; cardId: string };

/**
 * The lark_stream_card rows of every answer streaming in this process. Hundreds of answers stream
 * at once under load, each writing its card's row, its message id and later its closed state: each
 * kind of write (and the read of a task's cards) is grouped into one statement for all of them.
 */
export class StreamCardRows {
  private readonly inserts: StatementGroup<NewStreamCard>;
  private readonly messageIds: StatementGroup<{ cardId: string; messageId: string }>;
  private readonly closes: StatementGroup<{ cardId: string; state: 'finished' | 'interrupted' }>;
  private readonly reads: StatementGroup<string, StreamCardRow[]>;

  constructor(db: DbOrTx) {
    const none = (items: unknown[]): void[] => items.map(() => undefined);
    this.inserts = new StatementGroup(async (cards) => {
      await db.execute(sql`
        INSERT INTO lark_stream_card (workspace_id, installation_id, task_id, attempt, part, card_id)
        SELECT * FROM unnest(${sql.param(cards.map((c) => c.workspaceId))}::uuid[], ${sql.param(cards.map((c) => c.installationId))}::uuid[],
          ${sql.param(cards.map((c) => c.taskId))}::uuid[], ${sql.param(cards.map((c) => c.attempt))}::int[],
          ${sql.param(cards.map((c) => c.part))}::int[], ${sql.param(cards.map((c) => c.cardId))}::text[])`);
      return none(cards);
    });
    this.messageIds = new StatementGroup(async (sent) => {
      await db.execute(sql`
        UPDATE lark_stream_card c SET lark_message_id = s.message_id
        FROM unnest(${sql.param(sent.map((s) => s.cardId))}::text[], ${sql.param(sent.map((s) => s.messageId))}::text[]) AS s(card_id, message_id)
        WHERE c.card_id = s.card_id`);
      return none(sent);
    });
    this.closes = new StatementGroup(async (closed) => {
      await db.execute(sql`
        UPDATE lark_stream_card c SET state = s.state, closed_at = now()
        FROM unnest(${sql.param(closed.map((s) => s.cardId))}::text[], ${sql.param(closed.map((s) => s.state))}::text[]) AS s(card_id, state)
        WHERE c.card_id = s.card_id AND c.state = 'open'`);
      return none(closed);
    });
    this.reads = new StatementGroup(async (taskIds) => {
      const res = await db.execute<StreamCardRow & { task_id: string }>(sql`
        SELECT task_id, id, attempt, part, card_id, lark_message_id, state FROM lark_stream_card
        WHERE task_id = ANY(${sql.param(taskIds)}::uuid[]) ORDER BY attempt, part`);
      return taskIds.map((taskId) => res.rows.filter((r) => r.task_id === taskId).map(({ task_id: _, ...row }) => row));
    });
  }

  /** Written before the card is sent, so a card someone can see always has a row that lets it be closed. */
  add(card: NewStreamCard): Promise<void> {
    return this.inserts.submit(card);
  }

  /** The card's message, once sent: from then on the card is part of the answer and can be deleted with it. */
  sent(cardId: string, messageId: string): Promise<void> {
    return this.messageIds.submit({ cardId, messageId });
  }

  /** A card that was open is closed; one closed already keeps its state. */
  close(cardId: string, state: 'finished' | 'interrupted'): Promise<void> {
    return this.closes.submit({ cardId, state });
  }

  /** Statements sent per kind of write or read, for tests and benches. */
  statements(): Record<'inserts' | 'messageIds' | 'closes' | 'reads', number> {
    return { inserts: this.inserts.stats.statements, messageIds: this.messageIds.stats.statements, closes: this.closes.stats.statements, reads: this.reads.stats.statements };
  }

  /** Every card of the task, by attempt and part. */
  ofTask(taskId: string): Promise<StreamCardRow[]> {
    return this.reads.submit(taskId);
  }
}

/** The rows of the process that shares `db` (its pool): streams and deliveries of one worker group together. */
export const streamCardRows = perDb((db: DbOrTx) => new StreamCardRows(db));
