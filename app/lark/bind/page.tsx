import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { redirect } from 'next/navigation';
import { AuthCard } from '@/components/auth/auth-card';
import { signInPath } from '@/components/auth/next-path';
import { BindLarkAccount } from '@/components/lark/bind-lark-account';
import { currentUser } from '@/components/server/session';

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

/** The link from the bot's binding card. Signed out: sign in (or sign up) first, then come back here. */
export default async function LarkBindPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const user = await currentUser();
  // A plain redirect rather than a popup: desktop webviews open this page in place.
  if (!user) redirect(signInPath(thisPath(params)));
  const t = await getTranslations('lark.bind');
  const token = typeof params.token === 'string' ? params.token.trim() : '';
  return (
    <AuthCard title={t('title')} signedIn>
      <BindLarkAccount token={token} email={user.email} path={thisPath(params)} />
    </AuthCard>
  );
}
