import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { DbOrTx } from '../db/client';
import { workspaceEventNotice } from '../events';
import type { AgentTask } from '../services/tasks';
import { perDb, StatementGroup } from '../db/statement-group';

/** The web chat gets a running answer's new text at most this often, the same pace as a Lark card. */
export const WEB_STREAM_FLUSH_MS = 250;
/** Characters per notice: at three bytes a character, well inside NOTIFY's 8 KB with the envelope. */
const PIECE_CHARS = 2000;

/**
 * Shows a running answer growing in the web chat: the text added since the last frame goes out as
 * `task.delta` notices (one statement per frame, nothing stored). The answer itself is stored once,
 * when it is complete; a missed frame only shows up as a gap filled by the stored answer.
 */
export class WebAnswerStream {
  private text = '';
  private sent = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private ended = false;

  constructor(
    private readonly db: DbOrTx,
    private readonly task: AgentTask,
    private readonly log: Logger,
    private readonly flushMs = WEB_STREAM_FLUSH_MS,
  ) {}

  push(text: string): void {
    if (this.ended) return;
    this.text = text;
    if (!this.timer && !this.flushing) this.timer = setTimeout(() => this.flush(), this.flushMs);
  }

  async end(): Promise<void> {
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flushing;
  }

  private flush(): void {
    this.timer = null;
    // A runtime may rewrite its text (not only append): start over from the beginning then.
    if (this.text.length < this.sent) this.sent = 0;
    const from = this.sent;
    const added = this.text.slice(from);
    if (added.length === 0 || this.ended) return;
    const deltas = webDeltas(this.db);
    const pieces: Array<Promise<void>> = [];
    for (let at = 0; at < added.length; at += PIECE_CHARS) {
      pieces.push(deltas.submit({ workspaceId: this.task.workspaceId, sessionId: this.task.sessionId, taskId: this.task.id, offset: from + at, text: added.slice(at, at + PIECE_CHARS) }));
    }
    this.sent = this.text.length;
    this.flushing = Promise.all(pieces)
      .then(() => undefined)
      .catch((err) => this.log.debug({ err }, 'a streamed frame did not reach the web chat'))
      .finally(() => {
        this.flushing = null;
        if (!this.ended && this.text.length > this.sent) this.timer = setTimeout(() => this.flush(), this.flushMs);
      });
  }
}

type Delta = { workspaceId: string; sessionId: string; taskId: string; offset: number; text: string };

/**
 * The task.delta notices of every answer running in this process, sent together: hundreds of runs
 * streaming at once cost one statement per round trip, not one each.
 */
const webDeltas = perDb(
  (db: DbOrTx) =>
    new StatementGroup<Delta>(async (deltas) => {
      const event = sql`json_build_object('type', 'task.delta', 'session_id', d.session_id, 'task_id', d.task_id, 'offset', d.piece_offset, 'text', d.piece)`;
      await db.execute(sql`
        SELECT count(${workspaceEventNotice(sql`d.workspace_id`, event, sql`d.session_id`)}) FROM (
          SELECT * FROM unnest(${sql.param(deltas.map((d) => d.workspaceId))}::uuid[], ${sql.param(deltas.map((d) => d.sessionId))}::uuid[],
            ${sql.param(deltas.map((d) => d.taskId))}::uuid[], ${sql.param(deltas.map((d) => d.offset))}::int[], ${sql.param(deltas.map((d) => d.text))}::text[])
            WITH ORDINALITY AS u(workspace_id, session_id, task_id, piece_offset, piece, n)
          ORDER BY n
        ) AS d`);
      return deltas.map(() => undefined);
    }, 200),
);
