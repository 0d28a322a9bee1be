'use client';

import { useTranslations } from 'next-intl';

export default function ErrorPage({ reset }: { error: Error & { digest?: string }; reset: () => void }) {
  const t = useTranslations('errorPage');
  return (
    <main className="auth-page">
      <section className="auth-card center" role="alert">
        <h1 className="auth-title">{t('title')}</h1>
        <p className="muted">{t('body')}</p>
        <div className="form-actions form-actions-center">
          <button type="button" className="btn btn-primary" onClick={reset}>
            {t('retry')}
          </button>
          <a href="/" className="btn btn-ghost">
            {t('home')}
          </a>
        </div>
      </section>
    </main>
  );
}
