import type { ComponentProps, ReactNode } from 'react';
import { Logo } from '@/components/ui/logo';
import { cn } from '@/lib/utils';
import { LanguageSwitcher } from './language-switcher';

/** The page behind sign-in, sign-up, workspace creation and other standalone cards. */
export function AuthPage({ signedIn, children }: { signedIn?: boolean; children: ReactNode }) {
  return (
    <main className="flex min-h-dvh flex-col items-center bg-subtle px-4 pt-5 pb-12">
      <div className="mb-8 flex w-full max-w-240 items-center justify-between gap-3 md:mb-[min(12vh,96px)]">
        <Logo />
        {signedIn === undefined ? null : <LanguageSwitcher signedIn={signedIn} compact />}
      </div>
      {children}
    </main>
  );
}

/** The centred card itself; `AuthPage` places it. */
export function AuthPanel({ className, children, ...props }: { className?: string; children: ReactNode } & ComponentProps<'section'>) {
  return (
    <section className={cn('flex w-full max-w-100 flex-col gap-4 rounded-lg border bg-card px-4.5 py-5.5 text-card-foreground shadow-md md:p-7', className)} {...props}>
      {children}
    </section>
  );
}

export function AuthTitle({ id, children }: { id?: string; children: ReactNode }) {
  return (
    <h1 id={id} className="text-xl font-semibold tracking-tight">
      {children}
    </h1>
  );
}

/** The centred card used by sign-in, sign-up and workspace creation. */
export function AuthCard({ title, subtitle, signedIn, children }: { title: string; subtitle?: string; signedIn: boolean; children: ReactNode }) {
  return (
    <AuthPage signedIn={signedIn}>
      <AuthPanel aria-labelledby="auth-title">
        <div className="flex flex-col gap-1.5">
          <AuthTitle id="auth-title">{title}</AuthTitle>
          {subtitle ? <p className="text-muted-foreground">{subtitle}</p> : null}
        </div>
        {children}
      </AuthPanel>
    </AuthPage>
  );
}
