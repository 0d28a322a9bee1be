import { createTranslator } from 'use-intl/core';
import { defaultLocale, isAppLocale, type AppLocale } from '../../../i18n/locales';
import en from '../../../locales/en.json';
import ja from '../../../locales/ja.json';
import ko from '../../../locales/ko.json';
import zhHans from '../../../locales/zh-Hans.json';

const messages: Record<AppLocale, typeof en> = { en, 'zh-Hans': zhHans, ja, ko };

const makeTranslator = (locale: AppLocale) => createTranslator({ locale, messages: messages[locale], namespace: 'bot' });
// One translator per language, made once: every answer and notice asks for one.
const translators = new Map<AppLocale, ReturnType<typeof makeTranslator>>();

/** The bot's words in the reader's language (the locale of their Larkspur account), English otherwise. */
export function botText(locale: string | null | undefined) {
  const chosen = isAppLocale(locale) ? locale : defaultLocale;
  let translator = translators.get(chosen);
  if (!translator) {
    translator = makeTranslator(chosen);
    translators.set(chosen, translator);
  }
  return translator;
}
