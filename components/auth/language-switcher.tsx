'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useLocale, useTranslations } from 'next-intl';
import { useRouter } from 'next/navigation';
import { useId, useState, useTransition } from 'react';
import { api } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths } from '@/components/api/queries';
import { Label } from '@/components/ui/label';
import { NativeSelect } from '@/components/ui/native-select';
import { useErrorText } from '@/components/ui/use-error-text';
import { useHydrated } from '@/components/ui/use-hydrated';
import { localeCookie, localeNames, locales, isAppLocale, type AppLocale } from '@/i18n/locales';
import { cn } from '@/lib/utils';
import { updateMeInput } from '@/server/contract/me';

const oneYear = 60 * 60 * 24 * 365;

export function setLocaleCookie(locale: AppLocale) {
  document.cookie = `${localeCookie}=${encodeURIComponent(locale)}; path=/; max-age=${oneYear}; samesite=lax`;
}

/**
 * Switches the UI language: the cookie for this browser, and for signed-in users their account
 * too. `error` is set when only the account could not be updated.
 */
export function useLocaleSwitch(signedIn: boolean) {
  const errorText = useErrorText();
  const current = useLocale();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [pending, startTransition] = useTransition();
  const [error, setError] = useState<string | null>(null);

  async function change(next: string): Promise<string | null> {
    if (!isAppLocale(next) || next === current) return null;
    setError(null);
    setLocaleCookie(next);
    let failure: string | null = null;
    if (signedIn) {
      try {
        await api(paths.me, { method: 'PATCH', request: updateMeInput, body: { locale: next } });
        await queryClient.invalidateQueries({ queryKey: keys.me });
      } catch (err) {
        // The cookie still switches this browser; the account keeps its old setting.
        failure = errorText(err);
        setError(failure);
      }
    }
    startTransition(() => router.refresh());
    return failure;
  }

  return { current, change, pending, error };
}

type Props = { signedIn: boolean; compact?: boolean };

/** A language picker; `compact` hides the label (still read by screen readers) for top bars. */
export function LanguageSwitcher({ signedIn, compact = false }: Props) {
  const t = useTranslations('language');
  const id = useId();
  const hydrated = useHydrated();
  const { current, change, pending, error } = useLocaleSwitch(signedIn);

  return (
    <div className={cn('flex flex-col gap-1.5', compact && 'w-auto')}>
      <Label htmlFor={id} className={compact ? 'sr-only' : undefined}>
        {t('label')}
      </Label>
      <NativeSelect
        id={id}
        size={compact ? 'sm' : 'default'}
        className={compact ? 'h-[30px] w-auto bg-transparent text-[13px]' : undefined}
        value={current}
        disabled={pending || !hydrated}
        onChange={(e) => void change(e.target.value)}
      >
        {locales.map((l) => (
          <option key={l} value={l} lang={l}>
            {localeNames[l]}
          </option>
        ))}
      </NativeSelect>
      {error ? (
        <p className="text-[12.5px] text-destructive" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}
