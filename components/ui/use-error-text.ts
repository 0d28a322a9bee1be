'use client';

import { useTranslations } from 'next-intl';
import { useCallback } from 'react';
import { isApiError } from '@/components/api/client';
import { errorCodes, type ErrorCode } from '@/server/contract/errors';

const known = new Set<string>(errorCodes);

/** Turns any thrown value into a sentence in the current language, via `errors.<code>`. */
export function useErrorText() {
  const t = useTranslations('errors');
  return useCallback(
    (err: unknown): string => {
      if (isApiError(err)) {
        if (known.has(err.code)) return t(err.code as ErrorCode);
        if (err.code === 'network') return t('network');
      }
      return t('generic');
    },
    [t],
  );
}

/** Field messages come from the server as written; the summary above the form is translated. */
export function fieldErrors(err: unknown): Record<string, string> {
  return isApiError(err) ? err.fields : {};
}
