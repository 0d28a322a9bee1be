'use client';

import { useLocale } from 'next-intl';
import { useCallback, useEffect, useMemo, useState } from 'react';

const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

/** "3 minutes ago" in the current language, as a pure function of two instants. */
export function formatRelative(format: Intl.RelativeTimeFormat, value: string | Date, now: number): string {
  const time = (typeof value === 'string' ? new Date(value) : value).getTime();
  if (Number.isNaN(time)) return '';
  const seconds = Math.round((time - now) / 1000);
  const abs = Math.abs(seconds);
  for (const [unit, size] of units) {
    if (abs >= size) return format.format(Math.trunc(seconds / size), unit);
  }
  // "now" only for the first moments; "Installed now" a minute later would read oddly.
  return format.format(abs < 10 ? 0 : seconds, 'second');
}

/** Relative times that keep themselves current while the page stays open. */
export function useRelativeTime(tickMs = 15_000) {
  const locale = useLocale();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), tickMs);
    return () => clearInterval(timer);
  }, [tickMs]);
  const format = useMemo(() => new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }), [locale]);
  return useCallback((value: string | Date) => formatRelative(format, value, now), [format, now]);
}
