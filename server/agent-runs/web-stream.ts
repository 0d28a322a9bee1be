import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { DbOrTx } from '../db/client';
import { workspaceEventNotice } from '../events';
import type { AgentTask } from '../services/tasks';

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
    const pieces: SQLPiece[] = [];
    for (let at = 0; at < added.length; at += PIECE_CHARS) pieces.push({ offset: from + at, text: added.slice(at, at + PIECE_CHARS) });
    this.sent = this.text.length;
    const ws = sql`${this.task.workspaceId}::uuid`;
    const session = sql`${this.task.sessionId}::uuid`;
    const notices = sql.join(
      pieces.map(
        (p) =>
          sql`${workspaceEventNotice(ws, sql`json_build_object('type', 'task.delta', 'session_id', ${session}, 'task_id', ${this.task.id}::uuid, 'offset', ${p.offset}::int, 'text', ${p.text}::text)`, session)}`,
      ),
      sql`, `,
    );
    this.flushing = this.db
      .execute(sql`SELECT ${notices}`)
      .then(() => undefined)
      .catch((err) => this.log.debug({ err }, 'a streamed frame did not reach the web chat'))
      .finally(() => {
        this.flushing = null;
        if (!this.ended && this.text.length > this.sent) this.timer = setTimeout(() => this.flush(), this.flushMs);
      });
  }
}

type SQLPiece = { offset: number; text: string };
