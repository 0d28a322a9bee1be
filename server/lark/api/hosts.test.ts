import { describe, expect, it } from 'vitest';
import { accountsBaseUrlFor, chatAppLinkFor, consoleUrlFor, openBaseUrlFor, otherRegion, resolveLarkHosts } from './hosts';

describe('resolveLarkHosts', () => {
  it('maps each region to its own hosts', () => {
    expect(resolveLarkHosts('feishu')).toEqual({ openBaseUrl: 'https://open.feishu.cn', accountsBaseUrl: 'https://accounts.feishu.cn' });
    expect(resolveLarkHosts('lark')).toEqual({ openBaseUrl: 'https://open.larksuite.com', accountsBaseUrl: 'https://accounts.larksuite.com' });
  });

  it('lets a deployment-wide override with {region} beat the per-region host', () => {
    const overrides = { openBaseUrl: 'http://127.0.0.1:4010/{region}', accountsBaseUrl: 'http://127.0.0.1:4010/{region}/' };
    expect(resolveLarkHosts('lark', overrides)).toEqual({
      openBaseUrl: 'http://127.0.0.1:4010/lark',
      accountsBaseUrl: 'http://127.0.0.1:4010/lark',
    });
    expect(openBaseUrlFor('feishu', overrides)).toBe('http://127.0.0.1:4010/feishu');
  });

  it('applies an override without placeholder to both brands as is, and ignores blank ones', () => {
    expect(openBaseUrlFor('lark', { openBaseUrl: 'http://proxy.internal:8080' })).toBe('http://proxy.internal:8080');
    expect(accountsBaseUrlFor('lark', { accountsBaseUrl: '   ' })).toBe('https://accounts.larksuite.com');
    expect(accountsBaseUrlFor('feishu', { accountsBaseUrl: null })).toBe('https://accounts.feishu.cn');
  });

  it('names the other brand', () => {
    expect(otherRegion('feishu')).toBe('lark');
    expect(otherRegion('lark')).toBe('feishu');
  });
});

describe('consoleUrlFor', () => {
  it('points at the brand of the bot', () => {
    expect(consoleUrlFor('feishu', 'cli_0123456789abcdef')).toBe('https://open.feishu.cn/app/cli_0123456789abcdef');
    expect(consoleUrlFor('lark', 'cli_0123456789abcdef')).toBe('https://open.larksuite.com/app/cli_0123456789abcdef');
  });

  it('follows an override of the open platform host, such as the simulator', () => {
    const overrides = { openBaseUrl: 'http://127.0.0.1:4010/{region}' };
    expect(consoleUrlFor('feishu', 'cli_0123456789abcdef', overrides)).toBe('http://127.0.0.1:4010/feishu/app/cli_0123456789abcdef');
    expect(consoleUrlFor('lark', 'cli_0123456789abcdef', overrides)).toBe('http://127.0.0.1:4010/lark/app/cli_0123456789abcdef');
  });

  it('keeps an odd app id inside the path', () => {
    expect(consoleUrlFor('lark', 'a/b?c')).toBe('https://open.larksuite.com/app/a%2Fb%3Fc');
  });
});

describe('chatAppLinkFor', () => {
  it("opens the chat in its own brand's app", () => {
    expect(chatAppLinkFor('feishu', 'oc_abc')).toBe('https://applink.feishu.cn/client/chat/open?openChatId=oc_abc');
    expect(chatAppLinkFor('lark', 'oc_abc')).toBe('https://applink.larksuite.com/client/chat/open?openChatId=oc_abc');
  });

  it('opens the chat in the simulator when the deployment points there', () => {
    expect(chatAppLinkFor('lark', 'oc_abc', { openBaseUrl: 'http://127.0.0.1:4010/{region}' })).toBe('http://127.0.0.1:4010/lark/client/chat/open?openChatId=oc_abc');
  });

  it('cannot be given extra parameters by a chat id', () => {
    expect(chatAppLinkFor('lark', 'oc_a&x=1')).toBe('https://applink.larksuite.com/client/chat/open?openChatId=oc_a%26x%3D1');
  });
});
