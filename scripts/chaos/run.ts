// One scenario from start to figures: a fresh environment, two workers, steady DMs, the fault,
// probes into every chat at the fault's end, the drain, and what the database and the Lark users
// ended up with.
import path from 'node:path';
import { ChaosEnvironment } from './environment';
import type { DatabaseServer } from './database';
import { RECOVERY_GOAL_MS, type Scenario, type Sizes, type Takeover } from './scenarios';
import { seconds, sleep, waitUntil } from './timing';
import { TOKEN_SQL_PATTERN, Traffic, type SentMessage } from './traffic';

export type Figures = {
  scenario: string;
  sent: number;
  stored: number;
  duplicated: number;
  answered: number;
  answeredTwice: number;
  crashed: number;
  givenUp: number;
  /** Fault end -> the last probe answered; null when some chat did not answer within the timeout. */
  recoveryMs: number | null;
  recoveryGoalMs: number;
  recoveryTimeoutMs: number;
  takeover?: Takeover;
  /** Bots seen with two live connections in consecutive samples. */
  doubleConnected: number;
  notes: string[];
  /** The scenario could not run to the end. */
  error?: string;
};

export type RunOptions = {
  server: DatabaseServer;
  sizes: Sizes;
  workDir: string;
  log: (line: string) => void;
  keepLogsIn?: string;
};

const SAMPLE_INTERVAL_MS = 500;
const STALL_MS = 15_000;

/** Samples every bot's connection count; a bot counts when two consecutive samples see more than one. */
function sampleConnections(env: ChaosEnvironment): { stop: () => Promise<{ doubled: number; max: number }> } {
  let stopped = false;
  const previous = new Map<string, number>();
  const doubled = new Set<string>();
  let max = 0;
  const loop = (async () => {
    while (!stopped) {
      try {
        const counts = await env.connections();
        env.bots.forEach((b, i) => {
          max = Math.max(max, counts[i]);
          if (counts[i] > 1 && (previous.get(b.appId) ?? 0) > 1) doubled.add(b.appId);
          previous.set(b.appId, counts[i]);
        });
      } catch {
        // The simulator was busy; the next sample counts.
      }
      await sleep(SAMPLE_INTERVAL_MS);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return { doubled: doubled.size, max };
    },
  };
}

type Stored = { byToken: Map<string, number>; byLarkId: Map<string, number> | null };

async function storedMessages(env: ChaosEnvironment, sent: SentMessage[]): Promise<Stored> {
  const byToken = new Map<string, number>();
  const rows = await env.probe.query<{ token: string; n: number }>(
    `SELECT substring(content from '${TOKEN_SQL_PATTERN}') AS token, count(*)::int AS n
     FROM chat_message WHERE role = 'user' AND content LIKE 'chaos %' GROUP BY 1`,
  );
  for (const r of rows) if (r.token) byToken.set(r.token, r.n);
  // The link from a chat message to its Lark message id, when the schema has it.
  let byLarkId: Map<string, number> | null;
  try {
    const linked = await env.probe.query<{ id: string; n: number }>(
      `SELECT l.lark_message_id AS id, count(*)::int AS n FROM lark_inbound_message l JOIN chat_message m ON m.id = l.chat_message_id
       WHERE l.lark_message_id = ANY($1::text[]) GROUP BY 1`,
      [sent.map((m) => m.larkMessageId)],
    );
    byLarkId = new Map(linked.map((r) => [r.id, r.n]));
  } catch {
    byLarkId = null;
  }
  return { byToken, byLarkId };
}

const storedCount = (s: Stored, m: SentMessage) => Math.max(s.byToken.get(m.token) ?? 0, s.byLarkId?.get(m.larkMessageId) ?? 0);

/** Messages whose every delivery the simulator gave up on and that never reached the database: no answer can come. */
async function hopeless(env: ChaosEnvironment, messages: SentMessage[]): Promise<Set<string>> {
  const out = new Set<string>();
  if (messages.length === 0) return out;
  const stored = await storedMessages(env, messages);
  const apps = [...new Set(messages.map((m) => m.bot.appId))];
  const deliveries = (await Promise.all(apps.map((a) => env.sim.control.deliveries(a)))).flat();
  for (const m of messages) {
    const mine = deliveries.filter((d) => d.im_message_id === m.larkMessageId);
    if (mine.length > 0 && mine.every((d) => d.status === 'failed') && storedCount(stored, m) === 0) out.add(m.token);
  }
  return out;
}

/**
 * Fault end -> the moment the last chat answered a probe (the simulator's clock); null when some
 * chat did not answer within the timeout. A probe the simulator gave up on can never be answered,
 * so its chat gets another one: the question is when the chat answers again, not whether that
 * message survived (the lost ones are counted anyway).
 */
async function measureRecovery(env: ChaosEnvironment, traffic: Traffic, first: SentMessage[], endedAt: number, timeoutMs: number): Promise<{ ms: number | null; note: string | null }> {
  const deadline = endedAt + timeoutMs;
  const probesByChat = new Map(first.map((p) => [p.bot.chatId, [p]]));
  const answeredAt = new Map<string, number>();
  let resent = 0;
  let lastHopelessCheck = 0;
  for (;;) {
    const answers = await traffic.answers().catch(() => null);
    for (const [chat, probes] of probesByChat) {
      if (!answers || answeredAt.has(chat)) continue;
      const times = probes.flatMap((p) => answers.byToken.get(p.token) ?? []);
      if (times.length > 0) answeredAt.set(chat, Math.min(...times));
    }
    const waiting = [...probesByChat].filter(([chat]) => !answeredAt.has(chat)).map(([, probes]) => probes[probes.length - 1]);
    if (waiting.length === 0 || Date.now() >= deadline) break;
    if (Date.now() - lastHopelessCheck > 3000) {
      lastHopelessCheck = Date.now();
      const lostForGood = await hopeless(env, waiting).catch(() => new Set<string>());
      for (const p of waiting.filter((w) => lostForGood.has(w.token))) {
        const again = await traffic.send(p.bot, 'probe');
        if (again) {
          probesByChat.get(p.bot.chatId)!.push(again);
          resent += 1;
        }
      }
    }
    await sleep(500);
  }
  const resentNote = resent > 0 ? `; ${resent} probes were given up by the simulator and sent again` : '';
  const silent = probesByChat.size - answeredAt.size;
  if (silent > 0) return { ms: null, note: `${silent} of ${probesByChat.size} chats did not answer a probe within ${seconds(timeoutMs)} of the fault's end${resentNote}` };
  return { ms: Math.max(0, Math.max(...answeredAt.values()) - endedAt), note: resentNote ? resentNote.slice(2) : null };
}

/** Waits until every question is stored and answered, or nothing moved for a while and no delivery is pending. */
async function drain(env: ChaosEnvironment, traffic: Traffic, timeoutMs: number): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  let lastProgress = Date.now();
  let lastScore = -1;
  const questions = traffic.sent.filter((m) => m.kind !== 'warmup');
  for (;;) {
    try {
      const [stored, answers] = await Promise.all([storedMessages(env, questions), traffic.answers()]);
      const done = questions.filter((m) => storedCount(stored, m) > 0 && answers.byToken.has(m.token)).length;
      if (done === questions.length) return null;
      const score = done + questions.filter((m) => storedCount(stored, m) > 0).length;
      if (score !== lastScore) {
        lastScore = score;
        lastProgress = Date.now();
      } else if (Date.now() - lastProgress > STALL_MS) {
        const pending = (await Promise.all(env.bots.map((b) => env.sim.control.deliveries(b.appId)))).flat().filter((d) => d.status === 'pending').length;
        if (pending === 0) return `nothing moved for ${seconds(STALL_MS)}: ${questions.length - done} questions still without an answer`;
      }
    } catch {
      // The database or the simulator is still recovering; try again.
    }
    if (Date.now() >= deadline) return `drain timed out after ${seconds(timeoutMs)}`;
    await sleep(1000);
  }
}

/** What is left over in the product's queues, for the notes. */
async function leftovers(env: ChaosEnvironment): Promise<string | null> {
  const parts: string[] = [];
  const count = async (label: string, sql: string) => {
    try {
      const [row] = await env.probe.query<{ n: number }>(sql);
      if (row.n > 0) parts.push(`${row.n} ${label}`);
    } catch {
      // A table the schema no longer has.
    }
  };
  await count('agent tasks queued or running', `SELECT count(*)::int AS n FROM agent_task WHERE status IN ('queued', 'running')`);
  await count('agent tasks failed', `SELECT count(*)::int AS n FROM agent_task WHERE status = 'failed'`);
  await count('outbox rows pending', `SELECT count(*)::int AS n FROM lark_outbox WHERE status = 'pending'`);
  await count('outbox rows failed', `SELECT count(*)::int AS n FROM lark_outbox WHERE status = 'failed'`);
  await count('parked events', `SELECT count(*)::int AS n FROM lark_inbound_backlog`);
  await count('dropped events in the audit', `SELECT count(*)::int AS n FROM lark_inbound_audit`);
  return parts.length ? `left in the database: ${parts.join(', ')}` : null;
}

export async function runScenario(scenario: Scenario, options: RunOptions): Promise<Figures> {
  const { sizes, log } = options;
  const figures: Figures = {
    scenario: scenario.name,
    sent: 0,
    stored: 0,
    duplicated: 0,
    answered: 0,
    answeredTwice: 0,
    crashed: 0,
    givenUp: 0,
    recoveryMs: null,
    recoveryGoalMs: RECOVERY_GOAL_MS,
    recoveryTimeoutMs: sizes.recoveryTimeoutMs,
    doubleConnected: 0,
    notes: [],
  };
  const say = (line: string) => log(`[${scenario.name}] ${line}`);
  say(`setting up ${sizes.bots} bots…`);
  let env: ChaosEnvironment;
  try {
    env = await ChaosEnvironment.create({ server: options.server, label: scenario.name, bots: sizes.bots, dir: path.join(options.workDir, scenario.name), log: say });
  } catch (err) {
    figures.error = `setup failed: ${err instanceof Error ? err.message : String(err)}`;
    say(figures.error);
    return figures;
  }
  const traffic = new Traffic(env.sim.control, env.bots);
  const sampler = sampleConnections(env);
  let load: { stop: () => Promise<void> } | null = null;
  let faultStartedAt: number | null = null;
  let faultEndedAt: number | null = null;
  try {
    if (!scenario.startsWorkers) {
      const started = Date.now();
      await env.startWorkers(['a', 'b']);
      if (!(await env.waitConnected(sizes.startTimeoutMs))) figures.notes.push(`not every bot connected within ${seconds(sizes.startTimeoutMs)} of the workers' start`);
      // One answered DM per chat first: sessions exist and tenant tokens are fetched before the fault.
      const warmup = await traffic.sendToEveryChat('warmup');
      const warm = await waitUntil(async () => {
        const answers = await traffic.answers();
        return warmup.every((m) => answers.byToken.has(m.token));
      }, sizes.startTimeoutMs, 500);
      if (!warm) figures.notes.push(`warm-up: not every chat answered within ${seconds(sizes.startTimeoutMs)}`);
      say(`two workers up, ${warm ? 'every chat answering' : 'NOT every chat answering'}, ${seconds(Date.now() - started)} after the spawn`);
    }

    say(`steady load ${sizes.ratePerSecond} DMs/s for ${seconds(sizes.beforeMs)}, then the fault…`);
    load = traffic.startLoad(sizes.ratePerSecond);
    await sleep(sizes.beforeMs);
    faultStartedAt = Date.now();
    const fault = await scenario.inject({ env, traffic, sizes, log: say });
    faultEndedAt = fault.endedAt;
    figures.recoveryGoalMs = scenario.recoveryGoalMs?.(env) ?? RECOVERY_GOAL_MS;
    figures.notes.push(...fault.notes);
    const probes = await traffic.sendToEveryChat('probe');
    if (probes.length < env.bots.length) figures.notes.push(`${env.bots.length - probes.length} probes could not be sent`);
    say(`fault over; probes sent, load goes on for ${seconds(sizes.afterMs)}…`);
    const recovery = measureRecovery(env, traffic, probes, fault.endedAt, sizes.recoveryTimeoutMs);
    await sleep(sizes.afterMs);
    await load.stop();
    load = null;
    say('load stopped; waiting for the probes and every answer…');
    const recovered = await recovery;
    figures.recoveryMs = recovered.ms;
    if (recovered.note) figures.notes.push(recovered.note);
    if (fault.after) {
      const after = await fault.after;
      figures.notes.push(...after.notes);
      figures.takeover = after.takeover;
    }
    const drained = await drain(env, traffic, sizes.drainTimeoutMs);
    if (drained) figures.notes.push(drained);

    const questions = traffic.sent.filter((m) => m.kind !== 'warmup');
    const [stored, answers] = await Promise.all([storedMessages(env, questions), traffic.answers()]);
    figures.sent = questions.length;
    figures.stored = questions.filter((m) => storedCount(stored, m) > 0).length;
    figures.duplicated = questions.filter((m) => storedCount(stored, m) > 1).length;
    figures.answered = questions.filter((m) => answers.byToken.has(m.token)).length;
    figures.answeredTwice = questions.filter((m) => (answers.byToken.get(m.token)?.length ?? 0) > 1).length;
    if (answers.unattributed > 0) figures.notes.push(`${answers.unattributed} bot messages quote no question (error cards, notices or continuation parts)`);
    if (traffic.sendFailures > 0) figures.notes.push(`${traffic.sendFailures} DMs could not be sent (${traffic.lastSendError})`);
    const deliveries = (await Promise.all(env.bots.map((b) => env.sim.control.deliveries(b.appId)))).flat();
    figures.givenUp = deliveries.filter((d) => d.status === 'failed').length;
    const pending = deliveries.filter((d) => d.status === 'pending').length;
    if (pending > 0) figures.notes.push(`${pending} deliveries still pending in the simulator`);
    const left = await leftovers(env);
    if (left) figures.notes.push(left);
  } catch (err) {
    figures.error = err instanceof Error ? err.message : String(err);
    say(`stopped early: ${figures.error}`);
  } finally {
    await load?.stop();
    const sampled = await sampler.stop();
    figures.doubleConnected = sampled.doubled;
    if (sampled.doubled > 0) figures.notes.push(`${sampled.doubled} bots had two live connections at once (max ${sampled.max})`);
    for (const w of env.crashed()) {
      figures.crashed += 1;
      const at = w.crash!.at;
      const when =
        faultStartedAt === null || at < faultStartedAt
          ? `before the fault, ${seconds(at - w.spawnedAt)} after its spawn`
          : faultEndedAt === null || at <= faultEndedAt
            ? 'during the fault'
            : `${seconds(at - faultEndedAt)} after the fault's end`;
      figures.notes.push(`worker ${w.label} crashed ${when} (${w.crash!.how})${w.crash!.tail ? `: ${w.crash!.tail}` : ''}`);
    }
    figures.notes.push(...(await env.close(options.keepLogsIn)));
  }
  return figures;
}
