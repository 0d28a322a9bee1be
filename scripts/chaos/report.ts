// The figures as a table, each goal next to its figure, and the verdict.
import type { Figures } from './run';
import { seconds } from './timing';

export type Goal = { label: string; figure: (f: Figures) => string; met: (f: Figures) => boolean };

const lost = (f: Figures) => f.sent - f.stored;
const unanswered = (f: Figures) => f.sent - f.answered;
const recovery = (f: Figures) => (f.recoveryMs === null ? `> ${seconds(f.recoveryTimeoutMs)}` : seconds(f.recoveryMs));

export const GOALS: Goal[] = [
  { label: '0 lost (sent, never stored)', figure: (f) => String(lost(f)), met: (f) => lost(f) === 0 },
  { label: '0 duplicated (stored twice)', figure: (f) => String(f.duplicated), met: (f) => f.duplicated === 0 },
  { label: '0 unanswered', figure: (f) => String(unanswered(f)), met: (f) => unanswered(f) === 0 },
  { label: '0 answered twice', figure: (f) => String(f.answeredTwice), met: (f) => f.answeredTwice === 0 },
  { label: '0 workers crashed', figure: (f) => String(f.crashed), met: (f) => f.crashed === 0 },
  { label: '0 events given up by the simulator', figure: (f) => String(f.givenUp), met: (f) => f.givenUp === 0 },
  { label: '0 bots with two live connections', figure: (f) => String(f.doubleConnected), met: (f) => f.doubleConnected === 0 },
  {
    label: 'every chat answers again within the goal (10 s; lease TTL + 5 s after SIGKILL)',
    figure: (f) => `${recovery(f)} (goal ${seconds(f.recoveryGoalMs)})`,
    met: (f) => f.recoveryMs !== null && f.recoveryMs <= f.recoveryGoalMs,
  },
  {
    label: 'takeover after SIGKILL within lease TTL + 5 s',
    figure: (f) => (f.takeover ? `${f.takeover.ms === null ? 'none' : seconds(f.takeover.ms)} (goal ${seconds(f.takeover.goalMs)})` : 'n/a'),
    met: (f) => !f.takeover || (f.takeover.ms !== null && f.takeover.ms <= f.takeover.goalMs),
  },
  { label: 'the scenario ran to the end', figure: (f) => (f.error ? `no: ${f.error}` : 'yes'), met: (f) => !f.error },
];

export const missedGoals = (f: Figures) => GOALS.filter((g) => !g.met(f));

const COLUMNS: Array<{ title: string; cell: (f: Figures) => string; left?: boolean }> = [
  { title: 'scenario', cell: (f) => f.scenario, left: true },
  { title: 'sent', cell: (f) => String(f.sent) },
  { title: 'stored', cell: (f) => String(f.stored) },
  { title: 'lost', cell: (f) => String(lost(f)) },
  { title: 'dup', cell: (f) => String(f.duplicated) },
  { title: 'answered', cell: (f) => String(f.answered) },
  { title: '2× ans', cell: (f) => String(f.answeredTwice) },
  { title: 'crashed', cell: (f) => String(f.crashed) },
  { title: 'gave up', cell: (f) => String(f.givenUp) },
  { title: 'recovery', cell: (f) => recovery(f) },
  { title: 'goal', cell: (f) => `≤ ${seconds(f.recoveryGoalMs)}` },
  { title: 'verdict', cell: (f) => (missedGoals(f).length === 0 ? 'PASS' : 'FAIL'), left: true },
];

export function formatTable(all: Figures[]): string {
  const cells = all.map((f) => COLUMNS.map((c) => c.cell(f)));
  const widths = COLUMNS.map((c, i) => Math.max(c.title.length, ...cells.map((row) => row[i].length)));
  const line = (values: string[]) => values.map((v, i) => (COLUMNS[i].left ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ').trimEnd();
  return [line(COLUMNS.map((c) => c.title)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function formatDetails(all: Figures[]): string {
  const out: string[] = [];
  for (const f of all) {
    out.push(`${f.scenario}:`);
    if (f.takeover) out.push(`  takeover after SIGKILL: ${f.takeover.ms === null ? 'did not complete' : seconds(f.takeover.ms)} for ${f.takeover.detail} (goal: lease TTL + 5 s = ${seconds(f.takeover.goalMs)})`);
    const missed = missedGoals(f);
    if (missed.length > 0) out.push(`  missed: ${missed.map((g) => `${g.label} — ${g.figure(f)}`).join('; ')}`);
    for (const note of f.notes) out.push(`  ${note}`);
  }
  return out.join('\n');
}

export function formatGoals(all: Figures[]): string {
  return GOALS.map((g) => {
    const failing = all.filter((f) => !g.met(f));
    if (failing.length === 0) return `  MET     ${g.label}`;
    return `  MISSED  ${g.label}: ${failing.map((f) => `${f.scenario} ${g.figure(f)}`).join(', ')}`;
  }).join('\n');
}

export const passed = (all: Figures[]) => all.length > 0 && all.every((f) => missedGoals(f).length === 0);
