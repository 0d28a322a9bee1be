import { getTranslations } from 'next-intl/server';
import Link from 'next/link';
import { Logo } from '@/components/ui/logo';

export default async function NotFound() {
  const t = await getTranslations('notFound');
  return (
    <main className="auth-page">
      <div className="auth-top">
        <Logo />
      </div>
      <section className="auth-card center" aria-labelledby="not-found-title">
        <p className="not-found-code">404</p>
        <h1 id="not-found-title" className="auth-title">
          {t('title')}
        </h1>
        <p className="muted">{t('body')}</p>
        <p>
          <Link href="/" className="btn btn-primary">
            {t('home')}
          </Link>
        </p>
      </section>
    </main>
  );
}
