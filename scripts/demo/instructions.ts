import type { DemoSeed } from './seed';
import { demoLark } from './seed-lark';

/** What to open and what to try, printed once everything is up. */
export function demoInstructions(input: { appUrl: string; simUrl: string; seed: DemoSeed; dataDir: string }): string {
  const { appUrl, simUrl, seed } = input;
  const workspaceUrl = `${appUrl}/w/${seed.workspace.slug}`;
  const ada = seed.agents.find((a) => a.name === 'Ada');
  const [mei, sam] = seed.team.users;
  return [
    '',
    'Larkspur demo is running.',
    '',
    `  App     ${appUrl}   sign in as ${seed.owner.email} / ${seed.owner.password}`,
    `  Guide   ${workspaceUrl}/guide`,
    `  Lark    ${simUrl}/   the simulator: act as ${demoLark.users.join(', ')} and approve QR scans`,
    '',
    'Walkthrough',
    `  1. Open Ada (${ada ? `${workspaceUrl}/agents/${ada.id}` : `${workspaceUrl}/agents`}), click Bind to Lark, then "Open link" and approve in the simulator as ${mei.name}.`,
    `  2. In the simulator, DM Ada's bot as ${sam.name} and open the binding link it sends (${mei.name} approved the install, so she is linked already).`,
    `  3. Chat with Ada there: the echo reply comes back in Lark and the conversation shows in the app's Chat.`,
    `  4. Send "/issue Fix the login page" to the bot: it files a ${seed.workspace.issue_prefix}-n issue in the app and answers with its link.`,
    `  5. In "${demoLark.group}" (installed bots join it by themselves), @-mention Ada; bind Linus the same way to have two bots there.`,
    '',
    `Ctrl-C stops everything. Data lives in ${input.dataDir}; \`npm run demo -- --reset\` starts over.`,
    '',
  ].join('\n');
}
