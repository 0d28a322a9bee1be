'use client';

import { useTranslations } from 'next-intl';
import { useEffect } from 'react';
import { signInPath } from '@/components/auth/next-path';

/** Server layouts do not know the full URL, so the browser supplies it for `?next=`. */
export function SignInRedirect() {
  const t = useTranslations('auth');
  useEffect(() => {
    window.location.replace(signInPath(window.location.pathname + window.location.search));
  }, []);
  return (
    <main className="auth-page">
      <p className="muted center">
        <a href="/sign-in">{t('redirecting')}</a>
      </p>
    </main>
  );
}
