import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { AuthCard } from '@/components/auth/auth-card';
import { safeNextPath } from '@/components/auth/next-path';
import { SignUpForm } from '@/components/auth/sign-up-form';
import { invitationTokenFromPath } from '@/components/invitations/invitation-path';
import { currentUser } from '@/components/server/session';
import { signUpNeedsInvitation } from '@/server/auth/sign-up-policy';
import { db } from '@/server/db/client';
import { previewInvitation } from '@/server/services/invitations';

export async function generateMetadata(): Promise<Metadata> {
  const t = await getTranslations('auth');
  return { title: t('signUpTitle') };
}

export default async function SignUpPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const next = safeNextPath((await searchParams).next);
  if (await currentUser()) redirect(next);
  const t = await getTranslations('auth');
  // Coming from an invitation page: the form carries its token, and names the workspace.
  const token = invitationTokenFromPath(next);
  const preview = token ? await previewInvitation(db(), token) : null;
  const invitation = token && preview?.state === 'pending' ? { token, email: preview.email, workspace: preview.workspace.name } : null;
  if (!invitation && (await signUpNeedsInvitation())) {
    const query = next !== '/' ? `?next=${encodeURIComponent(next)}` : '';
    return (
      <AuthCard title={t('signUpClosedTitle')} signedIn={false}>
        <p className="text-muted-foreground">{t('signUpClosedBody')}</p>
        <p className="text-center text-muted-foreground">
          {t('haveAccount')} <Link href={`/sign-in${query}`}>{t('signInLink')}</Link>
        </p>
      </AuthCard>
    );
  }
  const subtitle = invitation ? t('signUpInviteSubtitle', { workspace: invitation.workspace }) : t('signUpSubtitle');
  return (
    <AuthCard title={t('signUpTitle')} subtitle={subtitle} signedIn={false}>
      <SignUpForm next={next} invitation={invitation ? { token: invitation.token, email: invitation.email } : null} />
    </AuthCard>
  );
}
