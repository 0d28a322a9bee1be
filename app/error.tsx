'use client';

import { useTranslations } from 'next-intl';
import { Button } from '@/components/ui/button';

export default function ErrorPage({ reset }: { error: Error & { digest?: string }; reset: () => void }) {
  const t = useTranslations('errorPage');
  return (
    <main className="flex min-h-dvh flex-col items-center bg-subtle px-4 pt-5 pb-12">
      <section
        className="mt-8 flex w-full max-w-100 flex-col items-center gap-4 rounded-lg border bg-card px-4.5 py-5.5 text-center text-card-foreground shadow-md md:mt-[min(12vh,96px)] md:p-7"
        role="alert"
      >
        <h1 className="text-xl font-semibold tracking-tight">{t('title')}</h1>
        <p className="text-muted-foreground">{t('body')}</p>
        <div className="flex flex-wrap items-center justify-center gap-2">
          <Button type="button" onClick={reset}>
            {t('retry')}
          </Button>
          <Button asChild variant="ghost">
            {/* A full load: the failed tree may hold state that a client navigation would keep. */}
            <a href="/">{t('home')}</a>
          </Button>
        </div>
      </section>
    </main>
  );
}
