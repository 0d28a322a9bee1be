import { describe, expect, test } from 'vitest';
import { parseEnv, SHUTDOWN_MARGIN_MS } from '../server/env';
import { LARK_ACK_DEADLINE_MS, LARK_DEFAULTS } from '../server/lark/defaults';
import { hubConfigFromEnv } from '../server/lark/hub/hub';
import { DISPATCH_BUDGET_MS } from '../server/lark/inbound/dispatcher';

// The product defaults, as a deployment that sets nothing gets them.
const defaults = parseEnv({ DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db' });

describe('timeout defaults sit under their deadlines', () => {
  test("the ACK path: dispatcher budget < connector handler timeout < Lark's 3 s ACK deadline", () => {
    const handlerTimeoutMs = LARK_DEFAULTS.connector.handlerTimeoutMs;
    expect(LARK_ACK_DEADLINE_MS).toBe(3000);
    expect(handlerTimeoutMs).toBeLessThan(LARK_ACK_DEADLINE_MS);
    // The dispatcher answers for itself (releasing its claim) before the connector's fallback 500.
    expect(DISPATCH_BUDGET_MS).toBeLessThan(handlerTimeoutMs);
  });

  test("the worker's shutdown: hub stop, then lease release, with a margin, before the forced exit", () => {
    const hub = hubConfigFromEnv(defaults);
    expect(SHUTDOWN_MARGIN_MS).toBeGreaterThan(0);
    expect(hub.shutdownTimeoutMs + hub.leaseReleaseTimeoutMs + SHUTDOWN_MARGIN_MS).toBeLessThanOrEqual(defaults.WORKER_SHUTDOWN_TIMEOUT_MS);
  });
});
