import { createTranslator } from 'use-intl/core';
import { defaultLocale, isAppLocale, type AppLocale } from '../../../i18n/locales';
import en from '../../../locales/en.json';
import ja from '../../../locales/ja.json';
import ko from '../../../locales/ko.json';
import zhHans from '../../../locales/zh-Hans.json';

const messages: Record<AppLocale, typeof en> = { en, 'zh-Hans': zhHans, ja, ko };

/** The bot's words in the reader's language (the locale of their Larkspur account), English otherwise. */
export function botText(locale: string | null | undefined) {
  const chosen = isAppLocale(locale) ? locale : defaultLocale;
  return createTranslator({ locale: chosen, messages: messages[chosen], namespace: 'bot' });
}
