'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { useLocale, useTranslations } from 'next-intl';
import Link from 'next/link';
import { useState } from 'react';
import { useForm, useWatch } from 'react-hook-form';
import { api } from '@/components/api/client';
import { paths } from '@/components/api/queries';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Form, FormControl, FormField, FormInputField, FormItem, FormLabel, FormMessage } from '@/components/ui/form';
import { FormFieldset } from '@/components/ui/form-fieldset';
import { Input } from '@/components/ui/input';
import { isAppLocale, localeCookie } from '@/i18n/locales';
import { updateMeInput } from '@/server/contract/me';
import { authClient } from './auth-client';
import { useAuthErrorText } from './auth-errors';
import { NAME_MAX, PASSWORD_MIN, signUpSchema, type SignUpValues } from './schemas';

function choseLanguage(): boolean {
  return document.cookie.split(';').some((c) => c.trim().startsWith(`${localeCookie}=`));
}

type InvitationContext = { token: string; email: string | null };

const passwordCodes = new Set(['PASSWORD_TOO_SHORT', 'PASSWORD_TOO_LONG', 'PASSWORD_TOO_COMMON']);

export function SignUpForm({ next, invitation = null }: { next: string; invitation?: InvitationContext | null }) {
  const t = useTranslations('auth');
  const locale = useLocale();
  const authErrorText = useAuthErrorText();
  const form = useForm<SignUpValues>({
    resolver: zodResolver(signUpSchema),
    defaultValues: { name: '', email: invitation?.email ?? '', password: '' },
  });
  const [name, email, password] = useWatch({ control: form.control, name: ['name', 'email', 'password'] });
  const [error, setError] = useState<string | null>(null);
  // Stays on after success: the page is about to be replaced.
  const [pending, setPending] = useState(false);
  const passwordProblem = form.formState.errors.password?.type;
  const passwordMessage =
    passwordProblem === 'too_small' ? t('passwordTooShort', { min: PASSWORD_MIN }) : passwordProblem === 'too_big' ? t('passwordTooLong') : undefined;

  async function submit(values: SignUpValues) {
    setError(null);
    setPending(true);
    try {
      const credentials = { email: values.email.trim(), password: values.password };
      const { error: authError } = await authClient.signUp.email({
        ...credentials,
        name: values.name.trim(),
        ...(invitation ? { invitationToken: invitation.token } : {}),
      });
      if (authError) {
        if (passwordCodes.has(authError.code ?? '')) form.setError('password', { type: 'server', message: authErrorText(authError) });
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
    <Form {...form} messages={passwordMessage ? { password: passwordMessage } : undefined}>
      <form method="post" onSubmit={form.handleSubmit(submit)} noValidate>
        <FormFieldset>
          {error ? <Alert>{error}</Alert> : null}
          <FormInputField control={form.control} name="name" label={t('name')} autoComplete="name" required maxLength={NAME_MAX} />
          <FormField
            control={form.control}
            name="email"
            render={({ field }) => (
              <FormItem>
                <FormLabel>{t('email')}</FormLabel>
                <FormControl>
                  {/* An invitation for a named email can only be used by that address. */}
                  <Input type="email" autoComplete="email" required readOnly={Boolean(invitation?.email)} {...field} />
                </FormControl>
                <FormMessage />
              </FormItem>
            )}
          />
          <FormInputField control={form.control} name="password" label={t('password')} type="password" autoComplete="new-password" required minLength={PASSWORD_MIN} description={t('passwordHint', { min: PASSWORD_MIN })} />
          <Button type="submit" className="h-9 w-full" disabled={pending || !name.trim() || !email || !password}>
            {pending ? t('signingUp') : t('signUp')}
          </Button>
          <p className="text-center text-muted-foreground">
            {t('haveAccount')} <Link href={`/sign-in${query}`}>{t('signInLink')}</Link>
          </p>
        </FormFieldset>
      </form>
    </Form>
  );
}
