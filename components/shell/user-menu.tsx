'use client';

import { useTranslations } from 'next-intl';
import { useCallback, useId, useRef, useState } from 'react';
import { LanguageSwitcher } from '@/components/auth/language-switcher';
import { SignOutButton } from '@/components/auth/sign-out-button';
import { useMe } from '@/components/api/queries';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Avatar } from '@/components/ui/avatar';
import { useDismiss } from './workspace-switcher';

export function UserMenu() {
  const t = useTranslations('shell');
  const { user } = useWorkspace();
  const me = useMe();
  const name = me.data?.user.name ?? user.name;
  const email = me.data?.user.email ?? user.email;
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const ref = useRef<HTMLDivElement>(null);
  const close = useCallback(() => setOpen(false), []);
  useDismiss(ref, open, close);

  return (
    <div className="user-menu" ref={ref}>
      {open ? (
        <div className="menu menu-up" id={panelId} role="group" aria-label={t('account')}>
          <div className="menu-user">
            <p className="menu-user-name">{name}</p>
            <p className="menu-user-email">{email}</p>
          </div>
          <div className="menu-divider" />
          <div className="menu-section">
            <LanguageSwitcher signedIn />
          </div>
          <div className="menu-divider" />
          <SignOutButton className="menu-item menu-item-button" />
        </div>
      ) : null}
      <button
        type="button"
        className="user-menu-button"
        aria-expanded={open}
        aria-controls={panelId}
        aria-label={t('accountMenu')}
        onClick={() => setOpen((v) => !v)}
      >
        <Avatar name={name} size="sm" />
        <span className="user-menu-name truncate">{name}</span>
      </button>
    </div>
  );
}
