import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { existingServer } from '../../scripts/chaos/database';
import { formatDetails, formatTable } from '../../scripts/chaos/report';
import { runScenario } from '../../scripts/chaos/run';
import { findScenarios, QUICK, type Sizes } from '../../scripts/chaos/scenarios';

// The fast part of `npm run chaos`: real worker processes and real faults on two bots, asserting
// the invariants that hold whatever the timing (nothing lost, nothing twice, no crash). Recovery
// times are left to the full suite: on a shared machine they measure the machine as much as the product.
const SIZES: Sizes = { ...QUICK, bots: 2, ratePerSecond: 2, beforeMs: 3_000, afterMs: 4_000, drainTimeoutMs: 30_000, startTimeoutMs: 45_000 };

let workDir: string;

beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'larkspur-chaos-test-'));
});

afterAll(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

describe('faults under load, real processes', () => {
  for (const scenario of findScenarios(['pg-terminate', 'worker-sigkill'])) {
    it(`${scenario.name}: nothing lost, nothing stored or answered twice, no worker crashed`, { timeout: 150_000 }, async () => {
      const server = existingServer(inject('pgAdminUrl'), inject('pgTemplateDb'));
      const figures = await runScenario(scenario, { server, sizes: SIZES, workDir, log: () => {} });
      const report = `\n${formatTable([figures])}\n${formatDetails([figures])}`;
      expect(
        { error: figures.error, lost: figures.sent - figures.stored, duplicated: figures.duplicated, answeredTwice: figures.answeredTwice, crashed: figures.crashed },
        report,
      ).toEqual({ error: undefined, lost: 0, duplicated: 0, answeredTwice: 0, crashed: 0 });
      expect(figures.sent, report).toBeGreaterThan(10);
    });
  }
});
