export const supportedLocales = ['en', 'zh-Hans', 'ja', 'ko'] as const;
export type SupportedLocale = (typeof supportedLocales)[number];
export const defaultLocale: SupportedLocale = 'en';
