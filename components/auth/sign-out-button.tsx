'use client';

import { useTranslations } from 'next-intl';
import { useCallback, useState } from 'react';
import { Button, type ButtonProps } from '@/components/ui/button';
import { authClient } from './auth-client';

/** Signs out, then loads the sign-in page in full: that drops every cached query of the previous user. */
export function useSignOut() {
  const [pending, setPending] = useState(false);
  const signOut = useCallback(async () => {
    setPending(true);
    try {
      await authClient.signOut();
    } finally {
      window.location.assign('/sign-in');
    }
  }, []);
  return { signOut, pending };
}

export function SignOutButton({ variant = 'ghost', ...props }: Omit<ButtonProps, 'onClick' | 'children'>) {
  const t = useTranslations('auth');
  const { signOut, pending } = useSignOut();
  return (
    <Button type="button" variant={variant} onClick={() => void signOut()} disabled={pending} {...props}>
      {t('signOut')}
    </Button>
  );
}
