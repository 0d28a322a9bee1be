import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { AuthCard } from '@/components/auth/auth-card';
import { signInPath } from '@/components/auth/next-path';
import { BindLarkAccount } from '@/components/lark/bind-lark-account';
import { BindResult } from '@/components/lark/bind-result';
import { currentUser } from '@/components/server/session';
import { Button } from '@/components/ui/button';

type SearchParams = Record<string, string | string[] | undefined>;

export async function generateMetadata(): Promise<Metadata> {
  const t = await getTranslations('lark.bind');
  return { title: t('title') };
}

function thisPath(params: SearchParams): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) query.append(key, v);
  }
  const search = query.toString();
  return `/lark/bind${search ? `?${search}` : ''}`;
}

/**
 * The link from the bot's binding card. Signed out, the visitor is told why they should sign in
 * (and comes back here afterwards); signed in, they see what would be connected and confirm.
 */
export default async function LarkBindPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const user = await currentUser();
  const t = await getTranslations('lark.bind');
  if (!user) {
    return (
      <AuthCard title={t('title')} signedIn={false}>
        <BindResult>
          <p>{t('signedOutBody')}</p>
          <p className="text-muted-foreground">{t('signedOutNext')}</p>
          {/* A plain link rather than a popup: desktop webviews open this page in place. */}
          <Button asChild className="h-9 w-full">
            <a href={signInPath(thisPath(params))}>{t('signInToContinue')}</a>
          </Button>
        </BindResult>
      </AuthCard>
    );
  }
  const token = typeof params.token === 'string' ? params.token.trim() : '';
  return (
    <AuthCard title={t('title')} signedIn>
      <BindLarkAccount token={token} email={user.email} path={thisPath(params)} />
    </AuthCard>
  );
}
