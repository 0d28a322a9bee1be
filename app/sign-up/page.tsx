import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { redirect } from 'next/navigation';
import { AuthCard } from '@/components/auth/auth-card';
import { safeNextPath } from '@/components/auth/next-path';
import { SignUpForm } from '@/components/auth/sign-up-form';
import { currentUser } from '@/components/server/session';

export async function generateMetadata(): Promise<Metadata> {
  const t = await getTranslations('auth');
  return { title: t('signUpTitle') };
}

export default async function SignUpPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const next = safeNextPath((await searchParams).next);
  if (await currentUser()) redirect(next);
  const t = await getTranslations('auth');
  return (
    <AuthCard title={t('signUpTitle')} subtitle={t('signUpSubtitle')} signedIn={false}>
      <SignUpForm next={next} />
    </AuthCard>
  );
}
