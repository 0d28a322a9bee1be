'use client';

import { useLocale } from 'next-intl';
import { useMemo } from 'react';

/**
 * Dates are formatted in the browser's own time zone. Data arrives after hydration, so server and
 * client never disagree about the rendered text.
 */
export function useFormatDate() {
  const locale = useLocale();
  return useMemo(() => {
    const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
    const date = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });
    const time = new Intl.DateTimeFormat(locale, { timeStyle: 'short' });
    const safe = (f: Intl.DateTimeFormat) => (value: string | Date) => {
      const d = typeof value === 'string' ? new Date(value) : value;
      return Number.isNaN(d.getTime()) ? '' : f.format(d);
    };
    return { dateTime: safe(dateTime), date: safe(date), time: safe(time) };
  }, [locale]);
}
