import type { AppLocale } from '../../../i18n/locales';
import { resolveBotLocale } from './bot-locale';
import { botText } from './bot-text';
import type { StreamLabels } from './stream-card';

export const botLocaleFor = (setting: string | null | undefined, region: 'feishu' | 'lark'): AppLocale => resolveBotLocale(setting, region);

/** The words on a streaming card, in the bot's language. */
export function streamLabels(locale: AppLocale): StreamLabels {
  const t = botText(locale);
  return { generating: t('run.generating'), stop: t('run.stop') };
}
