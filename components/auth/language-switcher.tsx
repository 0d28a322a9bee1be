'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useLocale, useTranslations } from 'next-intl';
import { useRouter } from 'next/navigation';
import { useId, useState, useTransition } from 'react';
import { api } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths } from '@/components/api/queries';
import { useErrorText } from '@/components/ui/use-error-text';
import { useHydrated } from '@/components/ui/use-hydrated';
import { localeCookie, localeNames, locales, isAppLocale, type AppLocale } from '@/i18n/locales';
import { updateMeInput } from '@/server/contract/me';

const oneYear = 60 * 60 * 24 * 365;

export function setLocaleCookie(locale: AppLocale) {
  document.cookie = `${localeCookie}=${encodeURIComponent(locale)}; path=/; max-age=${oneYear}; samesite=lax`;
}

type Props = { signedIn: boolean; compact?: boolean };

/** Switches the UI language; signed-in users also keep it on their account. */
export function LanguageSwitcher({ signedIn, compact = false }: Props) {
  const t = useTranslations('language');
  const errorText = useErrorText();
  const current = useLocale();
  const router = useRouter();
  const queryClient = useQueryClient();
  const id = useId();
  const hydrated = useHydrated();
  const [pending, startTransition] = useTransition();
  const [error, setError] = useState<string | null>(null);

  async function change(next: string) {
    if (!isAppLocale(next) || next === current) return;
    setError(null);
    setLocaleCookie(next);
    if (signedIn) {
      try {
        await api(paths.me, { method: 'PATCH', request: updateMeInput, body: { locale: next } });
        await queryClient.invalidateQueries({ queryKey: keys.me });
      } catch (err) {
        // The cookie still switches this browser; the account keeps its old setting.
        setError(errorText(err));
      }
    }
    startTransition(() => router.refresh());
  }

  return (
    <div className={`language-switcher${compact ? ' language-switcher-compact' : ''}`}>
      <label htmlFor={id} className={compact ? 'visually-hidden' : 'field-label'}>
        {t('label')}
      </label>
      <select
        id={id}
        className="input select"
        value={current}
        disabled={pending || !hydrated}
        onChange={(e) => void change(e.target.value)}
      >
        {locales.map((l) => (
          <option key={l} value={l} lang={l}>
            {localeNames[l]}
          </option>
        ))}
      </select>
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}
