import { getTranslations } from 'next-intl/server';
import Link from 'next/link';
import { AuthPage, AuthPanel, AuthTitle } from '@/components/auth/auth-card';
import { currentUser } from '@/components/server/session';
import { Button } from '@/components/ui/button';

export default async function NotFound() {
  const [t, user] = await Promise.all([getTranslations('notFound'), currentUser().catch(() => null)]);
  return (
    <AuthPage signedIn={Boolean(user)}>
      <AuthPanel className="items-center text-center" aria-labelledby="not-found-title">
        <p className="font-mono text-[13px] text-muted-foreground">404</p>
        <AuthTitle id="not-found-title">{t('title')}</AuthTitle>
        <p className="text-muted-foreground">{t('body')}</p>
        <Button asChild>
          <Link href="/">{t('home')}</Link>
        </Button>
      </AuthPanel>
    </AuthPage>
  );
}
