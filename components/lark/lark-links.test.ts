import { describe, expect, it } from 'vitest';
import { installErrorKey, larkConsoleUrl } from './lark-links';

describe('larkConsoleUrl', () => {
  it('points at the brand of the bot', () => {
    expect(larkConsoleUrl('feishu', 'cli_0123456789abcdef')).toBe('https://open.feishu.cn/app/cli_0123456789abcdef');
    expect(larkConsoleUrl('lark', 'cli_0123456789abcdef')).toBe('https://open.larksuite.com/app/cli_0123456789abcdef');
  });

  it('keeps an odd app id inside the path', () => {
    expect(larkConsoleUrl('lark', 'a/b?c')).toBe('https://open.larksuite.com/app/a%2Fb%3Fc');
  });
});

describe('installErrorKey', () => {
  it('passes known reasons through', () => {
    for (const reason of ['expired', 'access_denied', 'lark_protocol_error', 'bot_info_failed', 'installation_conflict', 'installer_bind_failed', 'internal_error']) {
      expect(installErrorKey(reason)).toBe(reason);
    }
  });

  it('maps anything else to unknown', () => {
    expect(installErrorKey(undefined)).toBe('unknown');
    expect(installErrorKey('quota_exceeded')).toBe('unknown');
    expect(installErrorKey('toString')).toBe('unknown');
  });
});
