import type { ActiveInstallation } from '../hub/leases';
import type { BootstrapErrorKind } from '../protocol/bootstrap';
import type { AckSent, ConnectorExit, ConnectorExitReason, ConnectorStatus } from '../protocol/connector';

/** What the ACK thread is started with: it reads no settings of its own. */
export type AckThreadData = {
  databaseUrl: string;
  /** Connections of the thread's pool (LARK_DISPATCH_DB_POOL_SIZE). */
  poolSize: number;
  logLevel: string;
  appUrl: string;
  nodeId: string;
  concurrency: number;
  dispatchBudgetMs?: number;
};

/** The main thread's requests. An app secret crosses in memory only, never to a log. */
export type ToAckThread =
  | { type: 'connect'; id: number; installation: ActiveInstallation; appSecret: string; openBaseUrl: string }
  | { type: 'abort'; id: number }
  | { type: 'stop' };

/** A connector's end as it crosses threads: the bootstrap error travels as its fields and is rebuilt. */
export type WireExit =
  | (Exclude<ConnectorExitReason, { reason: 'bootstrap_failed' }> & Omit<ConnectorExit, 'reason' | 'error'>)
  | ({ reason: 'bootstrap_failed'; error: { code: number | null; kind: BootstrapErrorKind; httpStatus: number | null; message: string } } & Omit<
      ConnectorExit,
      'reason' | 'error'
    >);

export type AckCount = Pick<AckSent, 'code' | 'bizRtMs'>;

export type FromAckThread =
  | { type: 'ready' }
  | { type: 'status'; id: number; status: ConnectorStatus }
  | { type: 'events'; id: number; count: number; lastEventAt: number }
  | { type: 'exit'; id: number; exit: WireExit }
  | { type: 'failed'; id: number; message: string }
  /** Counter increments and ACKs since the last report, for the worker's /metrics. */
  | { type: 'metrics'; counters: Array<[name: MetricName, label: string, count: number]>; acks: AckCount[] }
  /** Milliseconds its event loop spent running work since the last report (once a second). */
  | { type: 'busy'; ms: number }
  | { type: 'stopped' };

export type MetricName = 'eventsReceived' | 'dispatchOutcomes' | 'dispatchDrops';
