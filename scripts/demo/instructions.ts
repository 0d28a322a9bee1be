import type { DemoSeed } from './seed';
import { demoLark, type Installation } from './seed-lark';

type DemoPage = { appUrl: string; simUrl: string; seed: DemoSeed; dataDir: string };

function addresses({ appUrl, simUrl, seed }: DemoPage): string[] {
  return [
    `  App     ${appUrl}   sign in as ${seed.owner.email} / ${seed.owner.password}`,
    `  Guide   ${appUrl}/w/${seed.workspace.slug}/guide`,
    `  Lark    ${simUrl}/   the simulator: act as ${demoLark.users.join(', ')} and approve QR scans`,
  ];
}

const footer = (dataDir: string) => `Ctrl-C stops everything. Data lives in ${dataDir}; \`npm run demo -- --reset\` starts over.`;

/** What to open and what to try, printed once everything is up on a demo with no bot bound yet. */
export function demoInstructions(input: DemoPage): string {
  const { appUrl, seed } = input;
  const workspaceUrl = `${appUrl}/w/${seed.workspace.slug}`;
  const ada = seed.agents.find((a) => a.name === 'Ada');
  const [mei, sam] = seed.team.users;
  return [
    '',
    'Larkspur demo is running.',
    '',
    ...addresses(input),
    '',
    'Walkthrough',
    `  1. Open Ada (${ada ? `${workspaceUrl}/agents/${ada.id}` : `${workspaceUrl}/agents`}), click Bind to Lark, then "Open link" and approve in the simulator as ${mei.name}.`,
    `  2. In the simulator, act as ${sam.name}, message Ada's bot, and click "Connect account" on the card it answers with (${mei.name} approved the install, so she is linked already).`,
    `  3. Chat with Ada there: the echo reply comes back in Lark and the conversation shows in the app's Chat.`,
    `  4. Send "/issue Fix the login page" to the bot: it files a ${seed.workspace.issue_prefix}-n issue in the app and answers with its link.`,
    `  5. In "${demoLark.group}" (installed bots join it by themselves), @-mention Ada; bind Linus the same way to have two bots there.`,
    '',
    footer(input.dataDir),
    '',
  ].join('\n');
}

/** A later start, once bots are bound: the addresses and the bots, not the first-run walkthrough again. */
export function demoWelcomeBack(input: DemoPage & { bound: Installation[] }): string {
  return [
    '',
    'Welcome back: the Larkspur demo is running.',
    '',
    ...addresses(input),
    `  Bots    ${input.bound.map((i) => `${i.agent.name} (${i.region})`).join(', ')}`,
    '',
    'The walkthrough is in README.md, under Demo.',
    footer(input.dataDir),
    '',
  ].join('\n');
}

/** The first-run walkthrough until a bot is bound (nothing set up yet), then the welcome back. */
export function demoBanner(input: DemoPage & { installations: Installation[] }): string {
  const { installations, ...page } = input;
  const bound = installations.filter((i) => i.status === 'active');
  return bound.length === 0 ? demoInstructions(page) : demoWelcomeBack({ ...page, bound });
}
