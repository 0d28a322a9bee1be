import client from 'prom-client';

/** The worker's Prometheus metrics. One registry per worker instance keeps tests independent. */
export function createWorkerMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'larkspur_worker_' });
  const counter = (name: string, help: string, labelNames: string[] = []) => new client.Counter({ name, help, labelNames, registers: [registry] });
  const gauge = (name: string, help: string, labelNames: string[] = []) => new client.Gauge({ name, help, labelNames, registers: [registry] });
  return {
    registry,
    eventsReceived: counter('larkspur_lark_events_received_total', 'Complete Lark events handed to the dispatcher'),
    acks: counter('larkspur_lark_acks_total', 'ACKs sent to Lark, by code (200 handled, 500 redeliver)', ['code']),
    ackLatency: new client.Histogram({
      name: 'larkspur_lark_ack_latency_seconds',
      help: 'Time from a complete event to its ACK',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3],
      registers: [registry],
    }),
    dispatchOutcomes: counter('larkspur_lark_dispatch_outcomes_total', 'Dispatcher outcomes', ['outcome']),
    dispatchDrops: counter('larkspur_lark_dispatch_drops_total', 'Dropped events by reason', ['reason']),
    ackThreadBusy: counter(
      'larkspur_lark_ack_thread_busy_seconds_total',
      "Time the ACK thread's event loop spent running work; a rate near 1 means frames and ACKs queue behind it",
    ),
    outboxDeliveries: counter('larkspur_lark_outbox_deliveries_total', 'Outbox delivery attempts by result', ['result']),
    streamCardOperations: counter('larkspur_lark_stream_card_operations_total', 'Card operations made while answers stream (create, send, content)', ['op']),
    outboxDeliveryLatency: new client.Histogram({
      name: 'larkspur_lark_outbox_delivery_latency_seconds',
      help: 'Time from an outbox row being written to its message reaching Lark',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    outboxMessages: gauge('larkspur_lark_outbox_messages', 'Outbox rows by status', ['status']),
    leasesHeld: gauge('larkspur_lark_leases_held', 'Lark connections this worker holds the lease for'),
    connections: gauge('larkspur_lark_connections', 'Held Lark connections by state', ['state']),
    registrationSessions: gauge('larkspur_lark_registration_sessions', 'Device-flow install sessions by status', ['status']),
    tasks: counter('larkspur_agent_tasks_total', 'Agent runs finished, by result', ['result']),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
