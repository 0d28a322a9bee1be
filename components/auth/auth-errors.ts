'use client';

import { useTranslations } from 'next-intl';
import { useCallback } from 'react';

export type AuthClientError = { status?: number; code?: string; message?: string } | null | undefined;

/** better-auth's own error codes, mapped onto our sentences; anything else falls back by status. */
export function useAuthErrorText() {
  const t = useTranslations();
  return useCallback(
    (err: AuthClientError): string => {
      const code = err?.code ?? '';
      const status = err?.status ?? 0;
      if (status === 429) return t('errors.rate_limited');
      if (code === 'INVALID_EMAIL_OR_PASSWORD' || code === 'INVALID_PASSWORD' || code === 'USER_NOT_FOUND') {
        return t('auth.invalidCredentials');
      }
      if (code === 'USER_ALREADY_EXISTS' || code === 'USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL') return t('auth.emailTaken');
      if (code === 'PASSWORD_TOO_SHORT') return t('auth.passwordTooShort', { min: 8 });
      if (code === 'PASSWORD_TOO_LONG') return t('auth.passwordTooLong');
      if (code === 'PASSWORD_TOO_COMMON') return t('auth.passwordTooCommon');
      if (code === 'INVITATION_REQUIRED') return t('auth.invitationRequired');
      if (code === 'INVITATION_EMAIL_MISMATCH') return t('auth.invitationEmailMismatch');
      if (code === 'INVALID_EMAIL') return t('auth.invalidEmail');
      if (status === 401) return t('auth.invalidCredentials');
      if (status === 0) return t('errors.network');
      if (status >= 500) return t('errors.internal');
      return t('errors.generic');
    },
    [t],
  );
}
