import type { LarkRegion } from '@/server/contract/lark';

// Lark's AppLink hosts: a link opens the installed Lark or Feishu app (or its web client) at the chat.
const appLinkHosts: Record<LarkRegion, string> = {
  feishu: 'https://applink.feishu.cn',
  lark: 'https://applink.larksuite.com',
};

/** Opens a chat in the brand's app; Lark itself decides whether the person may see it. */
export function larkChatAppLink(region: LarkRegion, chatId: string): string {
  return `${appLinkHosts[region] ?? appLinkHosts.feishu}/client/chat/open?openChatId=${encodeURIComponent(chatId)}`;
}
