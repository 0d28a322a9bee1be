import { larkInstallErrorReasons, type LarkInstallErrorReason } from '@/server/contract/lark';

// A bot's page in the developer console ("Manage in Lark") is the installation's `console_url`: the
// server builds it (server/lark/api/hosts.ts) from the Lark host the deployment is configured with,
// so a deployment pointed at the simulator links to the simulator's page for the bot.

const knownReasons = new Set<string>(larkInstallErrorReasons);

/** Reasons added on the server later still get a sentence: the generic one. */
export function installErrorKey(reason: string | null | undefined): LarkInstallErrorReason | 'unknown' {
  return reason && knownReasons.has(reason) ? (reason as LarkInstallErrorReason) : 'unknown';
}
