import { describe, expect, it } from 'vitest';
import { matchAcceptLanguage, matchLocaleTag, resolveLocale } from '@/i18n/locales';

describe('matchLocaleTag', () => {
  it('maps Simplified Chinese variants to zh-Hans and leaves Traditional out', () => {
    expect(matchLocaleTag('zh')).toBe('zh-Hans');
    expect(matchLocaleTag('zh-CN')).toBe('zh-Hans');
    expect(matchLocaleTag('zh-Hans-SG')).toBe('zh-Hans');
    expect(matchLocaleTag('zh-TW')).toBeNull();
    expect(matchLocaleTag('zh-Hant')).toBeNull();
  });

  it('matches by language', () => {
    expect(matchLocaleTag('ja-JP')).toBe('ja');
    expect(matchLocaleTag('ko')).toBe('ko');
    expect(matchLocaleTag('en-GB')).toBe('en');
    expect(matchLocaleTag('fr-FR')).toBeNull();
  });
});

describe('matchAcceptLanguage', () => {
  it('honours q-values and order', () => {
    expect(matchAcceptLanguage('fr-FR, ja;q=0.8, en;q=0.9')).toBe('en');
    expect(matchAcceptLanguage('ko-KR,ko;q=0.9,en-US;q=0.8')).toBe('ko');
    expect(matchAcceptLanguage('de, fr;q=0.5')).toBeNull();
    expect(matchAcceptLanguage('ja;q=0, zh-CN;q=0.1')).toBe('zh-Hans');
    expect(matchAcceptLanguage('')).toBeNull();
  });
});

describe('resolveLocale', () => {
  it('prefers the user setting, then the cookie, then Accept-Language, then en', () => {
    expect(resolveLocale({ userLocale: 'ja', cookieLocale: 'ko', acceptLanguage: 'zh-CN' })).toBe('ja');
    expect(resolveLocale({ userLocale: null, cookieLocale: 'ko', acceptLanguage: 'zh-CN' })).toBe('ko');
    expect(resolveLocale({ cookieLocale: 'xx', acceptLanguage: 'zh-CN' })).toBe('zh-Hans');
    expect(resolveLocale({ acceptLanguage: 'fr' })).toBe('en');
    expect(resolveLocale({})).toBe('en');
  });
});
