import { larkInstallErrorReasons, type LarkInstallErrorReason, type LarkRegion } from '@/server/contract/lark';

const consoles: Record<LarkRegion, string> = {
  feishu: 'https://open.feishu.cn/app/',
  lark: 'https://open.larksuite.com/app/',
};

/** The bot's page in its brand's developer console, where it can be renamed or deleted. */
export function larkConsoleUrl(region: LarkRegion, appId: string): string {
  return `${consoles[region] ?? consoles.feishu}${encodeURIComponent(appId)}`;
}

const knownReasons = new Set<string>(larkInstallErrorReasons);

/** Reasons added on the server later still get a sentence: the generic one. */
export function installErrorKey(reason: string | null | undefined): LarkInstallErrorReason | 'unknown' {
  return reason && knownReasons.has(reason) ? (reason as LarkInstallErrorReason) : 'unknown';
}
