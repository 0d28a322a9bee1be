import type { Logger } from 'pino';
import type { Db } from '../../db/client';
import type { PgListener } from '../../db/listen';
import { BACKLOG_HOLD_RENEW_MS, claimParkedEvents, deleteParkedEvent, LARK_BACKLOG_CHANNEL, renewParkedEventHolds, retryParkedEventLater, stillParked, type BacklogEvent } from './backlog';
import type { DispatchResult } from './dispatcher';
import { sleep, Wakeup } from '../../async/abortable';
import type { ConcurrencyGate } from '../../async/concurrency-gate';

export type BacklogProcessorOptions = {
  db: Db;
  listener: PgListener;
  gate: ConcurrencyGate;
  logger: Logger;
  /** Shared with the ACK path: the events this process parked; each leaves it once dispatched. */
  parked: Set<number>;
  dispatch: (event: BacklogEvent) => Promise<DispatchResult>;
  /** The chat an event belongs to: a chat's events are dispatched one after another, in claim order. */
  chatOf?: (event: BacklogEvent) => string | null;
  tickMs?: number;
  batchSize?: number;
  /**
   * True while the ACK path is parking events. The backlog then dispatches at most `yieldSlots` at
   * once: on a machine short of CPU, its dispatches are what the park statements and the frames of
   * a burst queue behind, and an ACK has 3 s while a parked event has none. Work is never starved:
   * the backlog keeps `yieldSlots`, and every slot once the parking stops.
   */
  ackPathBusy?: () => boolean;
  yieldSlots?: number;
};

/** How often a dispatch that gave way to the ACK path looks again. */
const YIELD_RECHECK_MS = 10;

const RETRY_DELAY_SECONDS = 5;
const SLOT_WAIT_MS = 30_000;

/**
 * Dispatches parked events oldest first, through the same dispatch slots as the ACK path; one
 * chat's events one after another (started in order is not enough: a later statement can commit
 * first), other chats' beside them. Claims keep the slots fed: a new batch is claimed as soon as
 * half of the last one is done, not after its slowest event, so one slow dispatch does not idle the
 * others.
 */
export async function runBacklogProcessor(opts: BacklogProcessorOptions, signal: AbortSignal): Promise<void> {
  const wakeup = new Wakeup();
  const unsubscribe = opts.listener.subscribe(LARK_BACKLOG_CHANNEL, { onNotify: () => wakeup.notify(), onResync: () => wakeup.notify() });
  const batchSize = opts.batchSize ?? 32;
  // Claimed here and not yet done. The holds are heartbeats: renewed while the work goes on, so a
  // dead processor's events come back within one hold, not after a long timeout.
  const unfinished = new Set<number>();
  const working = new Set<Promise<void>>();
  const renewer = setInterval(() => {
    if (unfinished.size === 0) return;
    renewParkedEventHolds(opts.db, [...unfinished]).catch((err) => opts.logger.warn({ err }, 'renewing parked event holds failed'));
  }, BACKLOG_HOLD_RENEW_MS);

  const yieldSlots = Math.max(1, opts.yieldSlots ?? 4);
  let dispatching = 0;
  // One timer for every dispatch that is giving way, not one each.
  let recheck: Promise<void> | null = null;
  const nextRecheck = () =>
    (recheck ??= sleep(YIELD_RECHECK_MS, signal).then(() => {
      recheck = null;
    }));
  const work = async (event: BacklogEvent) => {
    while (dispatching >= yieldSlots && opts.ackPathBusy?.() && !signal.aborted) await nextRecheck();
    dispatching += 1;
    try {
      await dispatchParked(event);
    } finally {
      dispatching -= 1;
    }
  };
  const dispatchParked = async (event: BacklogEvent) => {
    // Slots are handed out in arrival order, so events start in the order they were claimed.
    const slot = await opts.gate.acquire(SLOT_WAIT_MS);
    // Unreleased, the event's hold simply runs out and another pass takes it.
    if (!slot) return retryParkedEventLater(opts.db, event.id, 0).catch((err) => opts.logger.warn({ err }, 'releasing a parked event failed'));
    try {
      const result = await opts.dispatch(event);
      if (result.ack === 200) {
        if (!result.unparked) await deleteParkedEvent(opts.db, event.id);
        opts.parked.delete(event.id);
      } else await retryParkedEventLater(opts.db, event.id, RETRY_DELAY_SECONDS);
    } catch (err) {
      opts.logger.error({ err, installationId: event.installationId }, 'dispatching a parked event failed; will retry');
      await retryParkedEventLater(opts.db, event.id, RETRY_DELAY_SECONDS).catch((e) => opts.logger.warn({ err: e }, 'postponing a parked event failed; its hold runs out instead'));
    } finally {
      slot.release();
    }
  };
  // Each chat's last event started here: the next one of the chat waits for it.
  const chatTails = new Map<string, Promise<void>>();
  const start = (event: BacklogEvent) => {
    unfinished.add(event.id);
    const chat = opts.chatOf?.(event) ?? null;
    const before = chat === null ? undefined : chatTails.get(chat);
    const running = (before ? before.then(() => work(event)) : work(event)).finally(() => {
      unfinished.delete(event.id);
      working.delete(running);
      if (chat !== null && chatTails.get(chat) === running) chatTails.delete(chat);
      wakeup.notify();
    });
    if (chat !== null) chatTails.set(chat, running);
    working.add(running);
  };

  try {
    while (!signal.aborted) {
      if (unfinished.size > batchSize / 2) {
        await wakeup.wait(opts.tickMs ?? 1000, signal);
        continue;
      }
      let events: BacklogEvent[] = [];
      try {
        events = await claimParkedEvents(opts.db, batchSize - unfinished.size);
      } catch (err) {
        opts.logger.error({ err }, 'claiming parked events failed');
      }
      if (events.length > 0) {
        for (const event of events) start(event);
        continue;
      }
      if (unfinished.size === 0) {
        // Another processor may have dispatched what this process parked (it holds them): forget
        // those, so new events dispatch live again.
        const mine = [...opts.parked];
        if (mine.length > 0) {
          try {
            const left = await stillParked(opts.db, mine);
            for (const id of mine) if (!left.has(id)) opts.parked.delete(id);
          } catch (err) {
            opts.logger.warn({ err }, 'checking parked events failed');
          }
        }
      }
      await wakeup.wait(opts.tickMs ?? 1000, signal);
    }
  } finally {
    await Promise.allSettled([...working]);
    clearInterval(renewer);
    unsubscribe();
  }
}
