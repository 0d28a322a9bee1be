import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { redirect } from 'next/navigation';
import { AuthCard } from '@/components/auth/auth-card';
import { safeNextPath } from '@/components/auth/next-path';
import { SignInForm } from '@/components/auth/sign-in-form';
import { currentUser } from '@/components/server/session';

export async function generateMetadata(): Promise<Metadata> {
  const t = await getTranslations('auth');
  return { title: t('signInTitle') };
}

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const next = safeNextPath((await searchParams).next);
  if (await currentUser()) redirect(next);
  const t = await getTranslations('auth');
  return (
    <AuthCard title={t('signInTitle')} subtitle={t('signInSubtitle')} signedIn={false}>
      <SignInForm next={next} />
    </AuthCard>
  );
}
