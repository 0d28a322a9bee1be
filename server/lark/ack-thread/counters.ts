import type { WorkerMetrics } from '../../ops/metrics';
import type { IngressMetrics } from '../inbound/ingress';
import type { MetricName } from './messages';

export type CounterIncrements = Array<[name: MetricName, label: string, count: number]>;

/**
 * A thread's counter increments, summed until they are reported: one message per interval, not
 * one per event.
 */
export class CounterBatch {
  private readonly counters = new Map<string, [MetricName, string, number]>();

  /** `onCount` is told of every increment (the thread schedules its report with it). */
  constructor(private readonly onCount: () => void) {}

  get empty(): boolean {
    return this.counters.size === 0;
  }

  count(name: MetricName, label: string): void {
    const key = `${name}\u0000${label}`;
    const entry = this.counters.get(key);
    if (entry) entry[2] += 1;
    else this.counters.set(key, [name, label, 1]);
    this.onCount();
  }

  /** The ingress's counters, counted here. */
  ingressMetrics(): IngressMetrics {
    return {
      eventsReceived: { inc: () => this.count('eventsReceived', '') },
      dispatchOutcomes: { inc: ({ outcome }) => this.count('dispatchOutcomes', outcome) },
      dispatchDrops: { inc: ({ reason }) => this.count('dispatchDrops', reason) },
    };
  }

  /** The sums so far; counting starts again from zero. */
  take(): CounterIncrements {
    const taken = [...this.counters.values()];
    this.counters.clear();
    return taken;
  }
}

/** Adds a thread's reported increments to the worker's own counters. */
export function addCounters(metrics: Pick<WorkerMetrics, 'eventsReceived' | 'dispatchOutcomes' | 'dispatchDrops'>, increments: CounterIncrements): void {
  for (const [name, label, count] of increments) {
    if (name === 'eventsReceived') metrics.eventsReceived.inc(count);
    else if (name === 'dispatchOutcomes') metrics.dispatchOutcomes.inc({ outcome: label }, count);
    else metrics.dispatchDrops.inc({ reason: label }, count);
  }
}
