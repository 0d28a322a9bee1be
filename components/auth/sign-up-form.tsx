'use client';

import { useLocale, useTranslations } from 'next-intl';
import Link from 'next/link';
import { useState, type FormEvent } from 'react';
import { Alert } from '@/components/ui/alert';
import { TextField } from '@/components/ui/field';
import { api } from '@/components/api/client';
import { paths } from '@/components/api/queries';
import { isAppLocale, localeCookie } from '@/i18n/locales';
import { updateMeInput } from '@/server/contract/me';
import { authClient } from './auth-client';
import { useAuthErrorText } from './auth-errors';
import { FormFieldset } from '@/components/ui/form-fieldset';

const minPassword = 8;

function choseLanguage(): boolean {
  return document.cookie.split(';').some((c) => c.trim().startsWith(`${localeCookie}=`));
}

type InvitationContext = { token: string; email: string | null };

const passwordCodes = new Set(['PASSWORD_TOO_SHORT', 'PASSWORD_TOO_LONG', 'PASSWORD_TOO_COMMON']);

export function SignUpForm({ next, invitation = null }: { next: string; invitation?: InvitationContext | null }) {
  const t = useTranslations('auth');
  const locale = useLocale();
  const authErrorText = useAuthErrorText();
  const [name, setName] = useState('');
  const [email, setEmail] = useState(invitation?.email ?? '');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [passwordError, setPasswordError] = useState<string | undefined>();
  const [pending, setPending] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (password.length < minPassword) {
      setPasswordError(t('passwordTooShort', { min: minPassword }));
      return;
    }
    setPasswordError(undefined);
    setPending(true);
    try {
      const credentials = { email: email.trim(), password };
      const { error: authError } = await authClient.signUp.email({
        ...credentials,
        name: name.trim(),
        ...(invitation ? { invitationToken: invitation.token } : {}),
      });
      if (authError) {
        if (passwordCodes.has(authError.code ?? '')) setPasswordError(authErrorText(authError));
        else setError(authErrorText(authError));
        setPending(false);
        return;
      }
      // Sign-up answers alike whether or not the email already had an account, and starts no
      // session; signing in is what tells this person their account is ready.
      const { error: signInError } = await authClient.signIn.email(credentials);
      if (signInError) {
        setError(signInError.status === 429 ? authErrorText(signInError) : t('signUpThenSignInFailed'));
        setPending(false);
        return;
      }
      if (choseLanguage() && isAppLocale(locale)) {
        // Keep the language picked on this page on the new account; not worth failing sign-up over.
        await api(paths.me, { method: 'PATCH', request: updateMeInput, body: { locale } }).catch(() => undefined);
      }
      window.location.assign(next);
    } catch {
      setError(authErrorText({ status: 0 }));
      setPending(false);
    }
  }

  const query = next !== '/' ? `?next=${encodeURIComponent(next)}` : '';
  return (
    <form method="post" onSubmit={submit} noValidate>
      <FormFieldset className="stack">
        {error ? <Alert>{error}</Alert> : null}
        <TextField
          label={t('name')}
          name="name"
          autoComplete="name"
          required
          maxLength={80}
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <TextField
          label={t('email')}
          type="email"
          name="email"
          autoComplete="email"
          required
          // An invitation for a named email can only be used by that address.
          readOnly={Boolean(invitation?.email)}
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <TextField
          label={t('password')}
          type="password"
          name="password"
          autoComplete="new-password"
          required
          minLength={minPassword}
          hint={t('passwordHint', { min: minPassword })}
          error={passwordError}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <button type="submit" className="btn btn-primary btn-block" disabled={pending || !name.trim() || !email || !password}>
          {pending ? t('signingUp') : t('signUp')}
        </button>
        <p className="muted center">
          {t('haveAccount')} <Link href={`/sign-in${query}`}>{t('signInLink')}</Link>
        </p>
      </FormFieldset>
    </form>
  );
}
