import { describe, expect, test } from 'vitest';
import { resolveBotLocale } from './bot-locale';

describe('resolveBotLocale', () => {
  test("'auto' follows the brand: Chinese on Feishu, English on Lark", () => {
    expect(resolveBotLocale('auto', 'feishu')).toBe('zh-Hans');
    expect(resolveBotLocale('auto', 'lark')).toBe('en');
  });

  test('a fixed locale wins over the brand', () => {
    expect(resolveBotLocale('ja', 'feishu')).toBe('ja');
    expect(resolveBotLocale('ko', 'lark')).toBe('ko');
    expect(resolveBotLocale('en', 'feishu')).toBe('en');
    expect(resolveBotLocale('zh-Hans', 'lark')).toBe('zh-Hans');
  });

  test('a missing or unknown setting counts as automatic; without a brand it is English', () => {
    expect(resolveBotLocale(null, 'feishu')).toBe('zh-Hans');
    expect(resolveBotLocale('fr', 'feishu')).toBe('zh-Hans');
    expect(resolveBotLocale(undefined, null)).toBe('en');
    expect(resolveBotLocale('auto', undefined)).toBe('en');
  });
});
