'use client';

import { useState, type ReactNode } from 'react';
import { authClient } from '@/components/auth/auth-client';
import { signInPath } from '@/components/auth/next-path';
import { cn } from '@/lib/utils';
import { Button, type ButtonProps } from './button';
import { useHydrated } from './use-hydrated';

// The buttons of the pages that act on a link only once its visitor confirms (an invitation, a
// Lark binding): full width, stacked under the card's text. Both stay disabled until React owns the
// page: these pages are opened from a link, and a click before hydration would otherwise be lost.

/** The confirming button; while `pending` it is disabled and says so. */
export function ConfirmButton({
  pending,
  pendingLabel,
  children,
  className,
  disabled,
  ...props
}: Omit<ButtonProps, 'asChild'> & { pending: boolean; pendingLabel: ReactNode }) {
  const hydrated = useHydrated();
  return (
    <Button type="button" className={cn('h-9 w-full', className)} disabled={!hydrated || pending || disabled} {...props}>
      {pending ? pendingLabel : children}
    </Button>
  );
}

/** Signs out and comes back to `path` through the sign-in page, so another account can use the same link. */
export function SwitchAccountButton({
  path,
  children,
  variant = 'secondary',
  className,
}: {
  path: string;
  children: ReactNode;
  variant?: ButtonProps['variant'];
  className?: string;
}) {
  const [pending, setPending] = useState(false);
  const hydrated = useHydrated();
  async function switchAccount() {
    setPending(true);
    try {
      await authClient.signOut();
    } finally {
      window.location.assign(signInPath(path));
    }
  }
  return (
    <Button type="button" variant={variant} className={cn('h-9 w-full', className)} disabled={!hydrated || pending} onClick={() => void switchAccount()}>
      {children}
    </Button>
  );
}
