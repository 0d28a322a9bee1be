import { expect, test } from 'vitest';
import { larkChatAppLink } from './issue-links';

test("a chat link opens the issue's own brand", () => {
  expect(larkChatAppLink('feishu', 'oc_abc')).toBe('https://applink.feishu.cn/client/chat/open?openChatId=oc_abc');
  expect(larkChatAppLink('lark', 'oc_abc')).toBe('https://applink.larksuite.com/client/chat/open?openChatId=oc_abc');
});

test('a chat id cannot add parameters to the link', () => {
  expect(larkChatAppLink('lark', 'oc_a&x=1')).toBe('https://applink.larksuite.com/client/chat/open?openChatId=oc_a%26x%3D1');
});
