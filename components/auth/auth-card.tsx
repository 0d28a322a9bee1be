import type { ReactNode } from 'react';
import { LanguageSwitcher } from './language-switcher';
import { Logo } from '@/components/ui/logo';

/** The centred card used by sign-in, sign-up and workspace creation. */
export function AuthCard({ title, subtitle, signedIn, children }: { title: string; subtitle?: string; signedIn: boolean; children: ReactNode }) {
  return (
    <main className="auth-page">
      <div className="auth-top">
        <Logo />
        <LanguageSwitcher signedIn={signedIn} compact />
      </div>
      <section className="auth-card" aria-labelledby="auth-title">
        <h1 id="auth-title" className="auth-title">
          {title}
        </h1>
        {subtitle ? <p className="muted">{subtitle}</p> : null}
        {children}
      </section>
    </main>
  );
}
