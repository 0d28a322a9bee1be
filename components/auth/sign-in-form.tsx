'use client';

import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { useState, type FormEvent } from 'react';
import { Alert } from '@/components/ui/alert';
import { TextField } from '@/components/ui/field';
import { authClient } from './auth-client';
import { useAuthErrorText } from './auth-errors';
import { FormFieldset } from '@/components/ui/form-fieldset';

export function SignInForm({ next }: { next: string }) {
  const t = useTranslations('auth');
  const authErrorText = useAuthErrorText();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setPending(true);
    setError(null);
    try {
      const { error: authError } = await authClient.signIn.email({ email: email.trim(), password });
      if (authError) {
        setError(authErrorText(authError));
        setPending(false);
        return;
      }
      // A full load so every server component (and the saved language) sees the new session.
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
          label={t('email')}
          type="email"
          name="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <TextField
          label={t('password')}
          type="password"
          name="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <button type="submit" className="btn btn-primary btn-block" disabled={pending || !email || !password}>
          {pending ? t('signingIn') : t('signIn')}
        </button>
        <p className="muted center">
          {t('noAccount')} <Link href={`/sign-up${query}`}>{t('signUpLink')}</Link>
        </p>
      </FormFieldset>
    </form>
  );
}
