export type LarkRegion = 'feishu' | 'lark';

export type LarkHostOverrides = {
  // Deployment-wide base URLs (tests, proxies, the simulator). `{region}` is replaced by feishu|lark.
  openBaseUrl?: string | null;
  accountsBaseUrl?: string | null;
};

export type LarkHosts = {
  openBaseUrl: string;
  accountsBaseUrl: string;
};

const REGION_HOSTS: Record<LarkRegion, LarkHosts> = {
  feishu: { openBaseUrl: 'https://open.feishu.cn', accountsBaseUrl: 'https://accounts.feishu.cn' },
  lark: { openBaseUrl: 'https://open.larksuite.com', accountsBaseUrl: 'https://accounts.larksuite.com' },
};

export function isLarkRegion(value: unknown): value is LarkRegion {
  return value === 'feishu' || value === 'lark';
}

export function otherRegion(region: LarkRegion): LarkRegion {
  return region === 'feishu' ? 'lark' : 'feishu';
}

function applyOverride(override: string | null | undefined, region: LarkRegion, fallback: string): string {
  const trimmed = override?.trim();
  const base = trimmed ? trimmed.replaceAll('{region}', region) : fallback;
  return base.replace(/\/+$/, '');
}

export function resolveLarkHosts(region: LarkRegion, overrides: LarkHostOverrides = {}): LarkHosts {
  const defaults = REGION_HOSTS[region];
  return {
    openBaseUrl: applyOverride(overrides.openBaseUrl, region, defaults.openBaseUrl),
    accountsBaseUrl: applyOverride(overrides.accountsBaseUrl, region, defaults.accountsBaseUrl),
  };
}

export function openBaseUrlFor(region: LarkRegion, overrides: LarkHostOverrides = {}): string {
  return resolveLarkHosts(region, overrides).openBaseUrl;
}

export function accountsBaseUrlFor(region: LarkRegion, overrides: LarkHostOverrides = {}): string {
  return resolveLarkHosts(region, overrides).accountsBaseUrl;
}

/**
 * The bot's page in the developer console, where it is renamed or deleted. The console lives on the
 * open platform's host, so an override of that host (the simulator, a proxy) moves the link with it.
 */
export function consoleUrlFor(region: LarkRegion, appId: string, overrides: LarkHostOverrides = {}): string {
  return `${openBaseUrlFor(region, overrides)}/app/${encodeURIComponent(appId)}`;
}

// Lark's AppLink hosts: a link opens the installed Lark or Feishu app (or its web client) at a chat.
const APP_LINK_HOSTS: Record<LarkRegion, string> = {
  feishu: 'https://applink.feishu.cn',
  lark: 'https://applink.larksuite.com',
};

/**
 * A link that opens a chat in the brand's app; Lark itself decides whether the person may see it. A
 * deployment pointed at another open platform host (the simulator) gets that host's page for the chat.
 */
export function chatAppLinkFor(region: LarkRegion, chatId: string, overrides: LarkHostOverrides = {}): string {
  const base = overrides.openBaseUrl?.trim() ? openBaseUrlFor(region, overrides) : APP_LINK_HOSTS[region];
  return `${base}/client/chat/open?openChatId=${encodeURIComponent(chatId)}`;
}
