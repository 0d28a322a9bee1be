export const locales = ['en', 'zh-Hans', 'ja', 'ko'] as const;
export type AppLocale = (typeof locales)[number];
export const defaultLocale: AppLocale = 'en';
export const localeCookie = 'NEXT_LOCALE';

/** Each language's own name, so a reader finds theirs whatever the current UI language is. */
export const localeNames: Record<AppLocale, string> = {
  en: 'English',
  'zh-Hans': '简体中文',
  ja: '日本語',
  ko: '한국어',
};

export function isAppLocale(value: unknown): value is AppLocale {
  return typeof value === 'string' && (locales as readonly string[]).includes(value);
}

/** Maps a BCP 47 tag to one of ours: zh, zh-CN, zh-SG and zh-Hans-* are Simplified Chinese. */
export function matchLocaleTag(tag: string): AppLocale | null {
  const lower = tag.trim().toLowerCase();
  if (!lower || lower === '*') return null;
  const exact = locales.find((l) => l.toLowerCase() === lower);
  if (exact) return exact;
  const [lang, ...rest] = lower.split('-');
  if (lang === 'zh') {
    // Traditional Chinese readers are better served by English than by Simplified characters.
    if (rest.includes('hant') || rest.includes('tw') || rest.includes('hk') || rest.includes('mo')) return null;
    return 'zh-Hans';
  }
  return locales.find((l) => l === lang) ?? null;
}

/** Picks the best supported locale from an Accept-Language header, honouring q-values. */
export function matchAcceptLanguage(header: string | null | undefined): AppLocale | null {
  if (!header) return null;
  const ranked = header
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const quality = q ? Number(q.slice(2)) : 1;
      return { tag: tag.trim(), quality: Number.isFinite(quality) ? quality : 0, index };
    })
    .filter((entry) => entry.tag && entry.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.index - b.index);
  for (const entry of ranked) {
    const match = matchLocaleTag(entry.tag);
    if (match) return match;
  }
  return null;
}

export type LocaleSources = { userLocale?: string | null; cookieLocale?: string | null; acceptLanguage?: string | null };

/** The user's saved setting wins, then the cookie, then the browser's languages, then English. */
export function resolveLocale(sources: LocaleSources): AppLocale {
  if (isAppLocale(sources.userLocale)) return sources.userLocale;
  if (isAppLocale(sources.cookieLocale)) return sources.cookieLocale;
  return matchAcceptLanguage(sources.acceptLanguage) ?? defaultLocale;
}
