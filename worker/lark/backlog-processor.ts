import type { Logger } from 'pino';
import pg from 'pg';
import type { Db } from '../../server/db/client';
import { claimParkedEvents, deleteParkedEvent, LARK_BACKLOG_CHANNEL, retryParkedEventLater, type BacklogEvent } from '../../server/lark/inbound/backlog';
import type { DispatchResult } from '../../server/lark/inbound/dispatcher';
import { Wakeup } from '../abortable';
import type { ConcurrencyGate } from '../concurrency-gate';

export type BacklogProcessorOptions = {
  db: Db;
  databaseUrl: string;
  gate: ConcurrencyGate;
  logger: Logger;
  /** Shared with the ACK path: while true, new events are parked behind the older ones. */
  state: { active: boolean };
  dispatch: (event: BacklogEvent) => Promise<DispatchResult>;
  tickMs?: number;
  batchSize?: number;
};

const RETRY_DELAY_SECONDS = 5;
const SLOT_WAIT_MS = 30_000;

/** Dispatches parked events oldest first, through the same dispatch slots as the ACK path. */
export async function runBacklogProcessor(opts: BacklogProcessorOptions, signal: AbortSignal): Promise<void> {
  const wakeup = new Wakeup();
  const listener = new pg.Client({ connectionString: opts.databaseUrl });
  listener.on('notification', () => wakeup.notify());
  listener.on('error', (err) => !signal.aborted && opts.logger.warn({ err: err.message }, 'backlog listener lost its connection; polling continues'));
  await listener
    .connect()
    .then(() => listener.query(`LISTEN ${LARK_BACKLOG_CHANNEL}`))
    .catch((err) => opts.logger.warn({ err: (err as Error).message }, 'could not listen for parked events'));
  try {
    while (!signal.aborted) {
      let events: BacklogEvent[] = [];
      try {
        events = await claimParkedEvents(opts.db, opts.batchSize ?? 32);
      } catch (err) {
        opts.logger.error({ err: (err as Error).message }, 'claiming parked events failed');
      }
      if (events.length === 0) {
        opts.state.active = false;
        await wakeup.wait(opts.tickMs ?? 1000, signal);
        continue;
      }
      // In order within the batch; each event takes a dispatch slot like a live one.
      await Promise.all(
        events.map(async (event) => {
          const slot = await opts.gate.acquire(SLOT_WAIT_MS);
          if (!slot) return retryParkedEventLater(opts.db, event.id, 0).catch(() => {});
          try {
            const result = await opts.dispatch(event);
            if (result.ack === 200) await deleteParkedEvent(opts.db, event.id);
            else await retryParkedEventLater(opts.db, event.id, RETRY_DELAY_SECONDS);
          } catch (err) {
            opts.logger.error({ err: (err as Error).message, installationId: event.installationId }, 'dispatching a parked event failed; will retry');
            await retryParkedEventLater(opts.db, event.id, RETRY_DELAY_SECONDS).catch(() => {});
          } finally {
            slot.release();
          }
        }),
      );
    }
  } finally {
    await listener.end().catch(() => {});
  }
}
