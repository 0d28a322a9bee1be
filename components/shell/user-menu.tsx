'use client';

import { LogOut } from 'lucide-react';
import { useTranslations } from 'next-intl';
import { useId } from 'react';
import { toast } from 'sonner';
import { useMe } from '@/components/api/queries';
import { useLocaleSwitch } from '@/components/auth/language-switcher';
import { useSignOut } from '@/components/auth/sign-out-button';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Avatar } from '@/components/ui/avatar';
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuRadioGroup,
  DropdownMenuRadioItem,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from '@/components/ui/dropdown-menu';
import { localeNames, locales } from '@/i18n/locales';

export function UserMenu() {
  const t = useTranslations();
  const { user } = useWorkspace();
  const me = useMe();
  const name = me.data?.user.name ?? user.name;
  const email = me.data?.user.email ?? user.email;
  const languageLabel = useId();
  const language = useLocaleSwitch(true);
  const { signOut, pending: signingOut } = useSignOut();

  async function changeLanguage(next: string) {
    const failure = await language.change(next);
    // The menu is closed by now, so the failure is told in a toast.
    if (failure) toast.error(failure);
  }

  return (
    <div className="border-t px-2.5 pt-2 pb-2.5">
      <DropdownMenu>
        <DropdownMenuTrigger asChild>
          <button
            type="button"
            className="flex h-9 w-full cursor-pointer items-center gap-2 rounded-sm px-2 text-left font-medium hover:bg-accent focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring data-[state=open]:bg-accent"
            aria-label={t('shell.accountMenu')}
          >
            <Avatar name={name} size="sm" />
            <span className="min-w-0 truncate">{name}</span>
          </button>
        </DropdownMenuTrigger>
        <DropdownMenuContent side="top" align="start" aria-label={t('shell.account')} className="w-(--radix-dropdown-menu-trigger-width) min-w-52">
          <div className="px-2 py-1">
            <p className="font-semibold">{name}</p>
            <p className="text-[12.5px] wrap-anywhere text-muted-foreground">{email}</p>
          </div>
          <DropdownMenuSeparator />
          <DropdownMenuLabel id={languageLabel}>{t('language.label')}</DropdownMenuLabel>
          <DropdownMenuRadioGroup aria-labelledby={languageLabel} value={language.current} onValueChange={(next) => void changeLanguage(next)}>
            {locales.map((l) => (
              <DropdownMenuRadioItem key={l} value={l} lang={l} disabled={language.pending}>
                {localeNames[l]}
              </DropdownMenuRadioItem>
            ))}
          </DropdownMenuRadioGroup>
          <DropdownMenuSeparator />
          <DropdownMenuItem disabled={signingOut} onSelect={() => void signOut()}>
            <LogOut aria-hidden="true" className="size-4 text-muted-foreground" />
            {t('auth.signOut')}
          </DropdownMenuItem>
        </DropdownMenuContent>
      </DropdownMenu>
    </div>
  );
}
