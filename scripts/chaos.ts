// `npm run chaos`: the fault suite. Real worker processes, a real PostgreSQL server and the Lark
// simulator as its own process, each fault injected under steady DMs, at product defaults. Prints
// per scenario what was sent, stored, duplicated, answered (once, twice), workers crashed, events
// the simulator gave up on and how long until every chat answered again, next to the goals; exits
// non-zero when any goal is missed.
//
//   npm run chaos                                  every scenario
//   npm run chaos -- --scenario pg-terminate       one (repeat the flag or separate with commas)
//   npm run chaos -- --quick                       shorter phases, fewer bots
//   npm run chaos -- --logs .data/chaos            keep worker and simulator logs per scenario
//   npm run chaos -- --list                        the scenarios
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseEnv } from '../server/env';
import { NODE_FENCE_AFTER_MS, NODE_HEARTBEAT_MS, NODE_STALE_AFTER_MS } from '../server/ops/node-registry';
import { startOwnServer, type DatabaseServer } from './chaos/database';
import { formatDetails, formatGoals, formatTable, passed } from './chaos/report';
import { runScenario, type Figures } from './chaos/run';
import { findScenarios, FULL, QUICK, RECOVERY_GOAL_MS, SCENARIOS, TAKEOVER_MARGIN_MS } from './chaos/scenarios';
import { seconds } from './chaos/timing';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', multiple: true },
    quick: { type: 'boolean', default: false },
    logs: { type: 'string' },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help || values.list) {
  if (values.help) console.log('usage: npm run chaos -- [--scenario <name>[,<name>…]] [--quick] [--logs <dir>] [--list]\n');
  for (const s of SCENARIOS) console.log(`  ${s.name.padEnd(16)} ${s.summary}`);
  process.exit(0);
}

const scenarios = findScenarios((values.scenario ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean));
const sizes = values.quick ? QUICK : FULL;
const keepLogsIn = values.logs ? path.resolve(values.logs) : undefined;
const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);

// The worker's settings as it will see them: defaults for everything the suite does not place.
const defaults = parseEnv({ DATABASE_URL: 'postgres://localhost/unused' });
console.log(
  `product defaults: lease TTL ${seconds(defaults.LARK_LEASE_TTL_MS)}, renewal every ${seconds(defaults.LARK_LEASE_RENEW_MS)}, hub sweep every ${seconds(defaults.LARK_HUB_SWEEP_MS)}, ` +
    `node heartbeat every ${seconds(NODE_HEARTBEAT_MS)} (a worker cut off from the database closes its connections after ${seconds(NODE_FENCE_AFTER_MS)}, ` +
    `its bots are taken over after the lease TTL or ${seconds(NODE_STALE_AFTER_MS)} without a heartbeat), ` +
    `Lark HTTP timeout ${seconds(defaults.LARK_HTTP_TIMEOUT_MS)}, task concurrency ${defaults.WORKER_CONCURRENCY}; two worker processes per scenario`,
);
console.log(
  `recovery goals: every chat answers again within ${seconds(RECOVERY_GOAL_MS)} of a fault's end; after a SIGKILL, the other worker owns and has reconnected ` +
    `every bot, and every chat answers, within lease TTL + ${seconds(TAKEOVER_MARGIN_MS)} (${seconds(defaults.LARK_LEASE_TTL_MS + TAKEOVER_MARGIN_MS)})`,
);
console.log("simulator: Lark's defaults (ACK within 3 s, 4 sends per event, redelivery after 1 s × n, PingInterval 120 s, ReconnectNonce 30 s)");
console.log(
  `${values.quick ? 'quick' : 'full'} run: ${sizes.bots} bots with a bound user each (echo agents), ${sizes.ratePerSecond} DMs/s, ` +
    `${seconds(sizes.beforeMs)} before each fault and ${seconds(sizes.afterMs)} after; scenarios: ${scenarios.map((s) => s.name).join(', ')}\n`,
);

const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'larkspur-chaos-'));
await fs.chmod(workDir, 0o777);
process.on('exit', () => rmSync(workDir, { recursive: true, force: true }));

let server: DatabaseServer | null = null;
const results: Figures[] = [];
try {
  server = await startOwnServer(workDir);
  for (const scenario of scenarios) {
    const started = Date.now();
    const figures = await runScenario(scenario, { server, sizes, workDir, log, keepLogsIn });
    results.push(figures);
    log(`[${scenario.name}] done in ${seconds(Date.now() - started)}\n`);
  }
} catch (err) {
  console.error(`the suite could not run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
} finally {
  await server?.close();
}

if (results.length > 0) {
  console.log(`\n${formatTable(results)}\n`);
  console.log(`${formatDetails(results)}\n`);
  console.log('goals:');
  console.log(formatGoals(results));
}
if (keepLogsIn) console.log(`\nlogs: ${keepLogsIn}`);
const ok = passed(results) && results.length === scenarios.length;
console.log(`\noverall: ${ok ? 'PASS' : 'FAIL'}`);
process.exit(ok ? 0 : 1);
