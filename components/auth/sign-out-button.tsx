'use client';

import { useTranslations } from 'next-intl';
import { useState } from 'react';
import { authClient } from './auth-client';

export function SignOutButton({ className = 'btn btn-ghost' }: { className?: string }) {
  const t = useTranslations('auth');
  const [pending, setPending] = useState(false);
  async function signOut() {
    setPending(true);
    try {
      await authClient.signOut();
    } finally {
      // A full load drops every cached query of the previous user.
      window.location.assign('/sign-in');
    }
  }
  return (
    <button type="button" className={className} onClick={() => void signOut()} disabled={pending}>
      {t('signOut')}
    </button>
  );
}
