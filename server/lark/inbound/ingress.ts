import type { Logger } from 'pino';
import type { Db } from '../../db/client';
import type { PgListener } from '../../db/listen';
import { sleep } from '../../async/abortable';
import { ConcurrencyGate } from '../../async/concurrency-gate';
import type { DeliveryRouter } from '../hub/hub';
import { parkInboundEvent, releaseHeldEvents } from './backlog';
import { AbandonedClaims } from './dedup';
import { runBacklogProcessor } from './backlog-processor';
import { handleCardAction, parseCardAction } from './card-actions';
import { dispatchInboundEvent, type DispatchResult } from './dispatcher';
import { decodeInboundEvent, type DecodedEvent } from '../protocol';

const CARD_ACTION_EVENT = 'card.action.trigger';

/** How long an event may wait for a dispatch slot before it is parked in the backlog instead. */
const DISPATCH_QUEUE_WAIT_MS = 250;
/** Waiting and dispatching together stay inside this, well before the connector's own 3 s ACK deadline. */
const DISPATCH_TOTAL_BUDGET_MS = 2000;
const DISPATCH_MIN_BUDGET_MS = 300;
/** Parked events were already ACKed: their dispatch has no 3 s deadline, only a generous bound. */
const BACKLOG_DISPATCH_BUDGET_MS = 15_000;
/**
 * An event not yet stored when its dispatch failed is parked instead, and a park the database
 * refuses is tried again, until this long after the frame arrived: under the connector's 2.5 s ACK
 * budget. A 500 at once would spend Lark's four sends within six seconds of a database restart.
 */
const STORE_RETRY_WINDOW_MS = 2_200;
const PARK_RETRY_FIRST_MS = 100;
const PARK_RETRY_MAX_MS = 500;
/** The ACK path counts as busy until this long after its last park (see the backlog's `ackPathBusy`). */
const ACK_PATH_QUIET_MS = 50;

/** The counters the ingress keeps: the worker's own, or ones that report to it from the ACK thread. */
export type IngressMetrics = {
  eventsReceived: { inc(): void };
  dispatchOutcomes: { inc(labels: { outcome: string }): void };
  dispatchDrops: { inc(labels: { reason: string }): void };
};

export type IngressOptions = {
  db: Db;
  /** Where events are parked: a connection of its own, so parking never waits behind dispatches. `db` when not given. */
  parkingDb?: Db;
  listener: PgListener;
  logger: Logger;
  appUrl: string;
  metrics: IngressMetrics;
  /** Dispatches in flight per worker; past it, events are parked. */
  concurrency: number;
  /** Overrides the ACK-path budget (tests). */
  dispatchBudgetMs?: number;
  /** This worker's node id, recorded on its dispatch claims. */
  nodeId?: string;
};

export type Ingress = {
  /** Decides the ACK of every complete event: dispatch now, or park durably and ACK. */
  route: DeliveryRouter;
  /** Dispatches parked events, oldest first, until the signal aborts. */
  runBacklog(signal: AbortSignal): Promise<void>;
};

/** The chat an event concerns, when it concerns one. */
function chatOfEvent(event: DecodedEvent): string | null {
  if (event.kind === 'message') return event.message.chatId;
  if (event.kind === 'ignore') return null;
  return event.chatId;
}

/**
 * The inbound policy between the connection and the dispatcher. Every event is ACKed within the
 * budget: it gets a dispatch slot within a short wait, or it is parked in one statement and ACKed
 * 200. While events are parked here, new ones join them at the back of the backlog: first come,
 * first dispatched, so no chat's messages overtake its own, and under a burst every ACK waits for
 * one grouped insert rather than for a dispatch slot.
 */
export function createIngress(opts: IngressOptions): Ingress {
  const gate = new ConcurrencyGate(opts.concurrency);
  const abandoned = new AbandonedClaims();
  // The events this process parked and has not seen dispatched (here or by another processor).
  const parked = new Set<number>();
  // Parks whose statement has not answered yet: they hold the queue's back just as parked events do.
  let parking = 0;
  // When the ACK path last parked an event: the backlog gives way to it for a moment after.
  let parkedAt = Number.NEGATIVE_INFINITY;
  const log = opts.logger;
  // Live dispatches in flight, and the events parked while any were: those start held, so the
  // processor (with another slot free) cannot write them ahead of an earlier event of their chat
  // that is still being dispatched; they are released when the last one ends.
  let live = 0;
  const held = new Set<number>();
  const releaseHeld = () => {
    const ids = [...held];
    held.clear();
    releaseHeldEvents(opts.parkingDb ?? opts.db, ids).catch((err) =>
      log.warn({ err, events: ids.length }, 'releasing held parked events failed; their hold runs out instead'),
    );
  };
  const record = (dispatched: DispatchResult) => {
    opts.metrics.dispatchOutcomes.inc({ outcome: dispatched.result.outcome });
    if (dispatched.result.outcome === 'dropped') opts.metrics.dispatchDrops.inc({ reason: dispatched.result.reason });
  };
  const dispatch = async (input: { appId: string; payload: Uint8Array | string; decoded?: DecodedEvent; backlogId?: number }, budgetMs: number) => {
    const dispatched = await dispatchInboundEvent({ db: opts.db, logger: log, appUrl: opts.appUrl, budgetMs, abandoned, nodeId: opts.nodeId }, input);
    record(dispatched);
    return dispatched;
  };

  const answerCardAction = async (installation: { id: string; workspaceId: string }, payload: Uint8Array) => {
    const action = parseCardAction(payload);
    if (!action) return 'ignored' as const;
    try {
      const response = await handleCardAction({ db: opts.db, logger: log }, installation, action);
      opts.metrics.dispatchOutcomes.inc({ outcome: 'card_action' });
      return { verdict: 'ok' as const, responseData: response };
    } catch (err) {
      log.error({ err, installationId: installation.id }, 'handling a card action failed; asking Lark to redeliver');
      return 'retry' as const;
    }
  };

  const route: DeliveryRouter = async (installation, delivery) => {
    if (delivery.frameType !== 'event') return 'ignored';
    opts.metrics.eventsReceived.inc();
    const queuedAt = Date.now();
    const decoded = decodeInboundEvent(delivery.payload);
    // A button press is answered in its ACK, within Lark's 3 s: it never waits for a slot or the backlog.
    if (decoded.kind === 'ignore' && decoded.eventType === CARD_ACTION_EVENT) return answerCardAction(installation, delivery.payload);
    // Behind parked events (any chat's: chat events such as a recall keep their place too), or with a
    // full round of dispatches already waiting for a slot that cannot come in time: park at once,
    // so the ACK leaves now instead of after the wait.
    const queued = parked.size > 0 || parking > 0;
    const slot = queued || gate.waiting >= opts.concurrency ? null : await gate.acquire(DISPATCH_QUEUE_WAIT_MS);
    const storeBy = queuedAt + STORE_RETRY_WINDOW_MS;
    if (!slot) return park(installation, delivery, storeBy);
    live += 1;
    let dispatched: DispatchResult | null = null;
    try {
      // The time spent waiting for the slot comes off the dispatch budget.
      const budgetMs = opts.dispatchBudgetMs ?? Math.max(DISPATCH_MIN_BUDGET_MS, DISPATCH_TOTAL_BUDGET_MS - (Date.now() - queuedAt));
      dispatched = await dispatch({ appId: installation.appId, payload: delivery.payload, decoded }, budgetMs);
    } catch (err) {
      log.warn({ err, installationId: installation.id }, 'dispatching an event failed; parking it instead');
    } finally {
      slot.release();
      live -= 1;
      if (live === 0 && held.size > 0) releaseHeld();
    }
    if (dispatched?.ack === 200) return 'ok';
    // Not stored (the database is unreachable, the dispatch ran over, another worker holds the
    // message): the backlog keeps it instead, and its dispatch there settles which of them it was.
    return park(installation, delivery, storeBy);
  };

  /**
   * Parks an event and answers 'ok' once its row is written. A park the database refuses is tried
   * again while the ACK budget lasts; 'retry' (Lark redelivers) once it is spent. A park that does
   * not answer at all is left to the connector's budget, which answers 500 for it.
   */
  const park = async (installation: { id: string; appId: string }, delivery: { payload: Uint8Array; signal: AbortSignal }, storeBy: number): Promise<'ok' | 'retry'> => {
    parking += 1;
    parkedAt = performance.now();
    try {
      const payload = Buffer.from(delivery.payload).toString('utf8');
      for (let retryMs = PARK_RETRY_FIRST_MS; ; retryMs = Math.min(PARK_RETRY_MAX_MS, retryMs * 2)) {
        const hold = live > 0;
        try {
          const id = await parkInboundEvent(opts.parkingDb ?? opts.db, { installationId: installation.id, appId: installation.appId, payload, held: hold });
          parked.add(id);
          if (hold) {
            held.add(id);
            // The dispatches it waited for may have ended while it was being parked.
            if (live === 0) releaseHeld();
          }
          opts.metrics.dispatchOutcomes.inc({ outcome: 'parked' });
          return 'ok';
        } catch (err) {
          if (Date.now() + retryMs >= storeBy || delivery.signal.aborted) {
            log.error({ err, installationId: installation.id }, 'could not park an event; asking Lark to redeliver');
            return 'retry';
          }
          log.warn({ err, installationId: installation.id }, 'parking an event failed; trying again');
          await sleep(retryMs, delivery.signal);
        }
      }
    } finally {
      parking -= 1;
    }
  };

  return {
    route,
    runBacklog: (signal) =>
      runBacklogProcessor(
        {
          db: opts.db,
          listener: opts.listener,
          gate,
          logger: log,
          parked,
          ackPathBusy: () => parking > 0 || performance.now() - parkedAt < ACK_PATH_QUIET_MS,
          yieldSlots: Math.max(1, Math.floor(opts.concurrency / 2)),
          chatOf: (event) => chatOfEvent(decodeInboundEvent(event.payload)),
          dispatch: (event) => dispatch({ appId: event.appId, payload: event.payload, backlogId: event.id }, BACKLOG_DISPATCH_BUDGET_MS),
        },
        signal,
      ),
  };
}
