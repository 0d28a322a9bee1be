import { getRequestConfig } from 'next-intl/server';
import { cookies, headers } from 'next/headers';
import { currentUser } from '@/components/server/session';
import { localeCookie, resolveLocale, type AppLocale } from './locales';

async function loadMessages(locale: AppLocale) {
  switch (locale) {
    case 'zh-Hans':
      return (await import('@/locales/zh-Hans.json')).default;
    case 'ja':
      return (await import('@/locales/ja.json')).default;
    case 'ko':
      return (await import('@/locales/ko.json')).default;
    default:
      return (await import('@/locales/en.json')).default;
  }
}

async function userLocale(): Promise<string | null> {
  try {
    return (await currentUser())?.locale ?? null;
  } catch {
    // A database hiccup must not take every page down with it; the cookie still applies.
    return null;
  }
}

export default getRequestConfig(async () => {
  const [requestHeaders, cookieStore] = await Promise.all([headers(), cookies()]);
  const locale = resolveLocale({
    userLocale: await userLocale(),
    cookieLocale: cookieStore.get(localeCookie)?.value,
    acceptLanguage: requestHeaders.get('accept-language'),
  });
  return { locale, messages: await loadMessages(locale) };
});
