'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { useState } from 'react';
import { useForm, useWatch } from 'react-hook-form';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Form, FormInputField } from '@/components/ui/form';
import { FormFieldset } from '@/components/ui/form-fieldset';
import { authClient } from './auth-client';
import { useAuthErrorText } from './auth-errors';
import { signInSchema, type SignInValues } from './schemas';

export function SignInForm({ next }: { next: string }) {
  const t = useTranslations('auth');
  const authErrorText = useAuthErrorText();
  const form = useForm<SignInValues>({ resolver: zodResolver(signInSchema), defaultValues: { email: '', password: '' } });
  const [email, password] = useWatch({ control: form.control, name: ['email', 'password'] });
  const [error, setError] = useState<string | null>(null);
  // Stays on after success: the page is about to be replaced.
  const [pending, setPending] = useState(false);

  async function submit(values: SignInValues) {
    setPending(true);
    setError(null);
    try {
      const { error: authError } = await authClient.signIn.email({ email: values.email.trim(), password: values.password });
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
    <Form {...form}>
      <form method="post" onSubmit={form.handleSubmit(submit)} noValidate>
        <FormFieldset>
          {error ? <Alert>{error}</Alert> : null}
          <FormInputField control={form.control} name="email" label={t('email')} type="email" autoComplete="email" required />
          <FormInputField control={form.control} name="password" label={t('password')} type="password" autoComplete="current-password" required />
          <Button type="submit" className="h-9 w-full" disabled={pending || !email || !password}>
            {pending ? t('signingIn') : t('signIn')}
          </Button>
          <p className="text-center text-muted-foreground">
            {t('noAccount')} <Link href={`/sign-up${query}`}>{t('signUpLink')}</Link>
          </p>
        </FormFieldset>
      </form>
    </Form>
  );
}
