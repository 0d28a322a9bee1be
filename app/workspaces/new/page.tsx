import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { AuthCard } from '@/components/auth/auth-card';
import { signInPath } from '@/components/auth/next-path';
import { SignOutButton } from '@/components/auth/sign-out-button';
import { currentUser } from '@/components/server/session';
import { CreateWorkspaceForm } from '@/components/workspaces/create-workspace-form';
import { db } from '@/server/db/client';
import { listWorkspacesForUser } from '@/server/services/workspaces';

export async function generateMetadata(): Promise<Metadata> {
  const t = await getTranslations('workspaces.create');
  return { title: t('title') };
}

export default async function NewWorkspacePage() {
  const user = await currentUser();
  if (!user) redirect(signInPath('/workspaces/new'));
  const [t, memberships] = await Promise.all([getTranslations('workspaces.create'), listWorkspacesForUser(db(), user.id)]);
  const back = memberships[0]?.workspace;
  return (
    <AuthCard title={t('title')} subtitle={t('subtitle')} signedIn>
      <CreateWorkspaceForm />
      {back ? (
        <p className="text-center text-muted-foreground">
          <Link href={`/w/${back.slug}/chat`}>{t('back', { name: back.name })}</Link>
        </p>
      ) : null}
      <p className="text-center text-[12.5px] text-muted-foreground">
        {t('signedInAs', { email: user.email })} <SignOutButton variant="link" className="text-[12.5px]" />
      </p>
    </AuthCard>
  );
}
