import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { AuthCard } from '@/components/auth/auth-card';
import { InvitationCard } from '@/components/invitations/invitation-card';
import { Button } from '@/components/ui/button';
import { currentUser } from '@/components/server/session';
import { db } from '@/server/db/client';
import { previewInvitation } from '@/server/services/invitations';
import { findMemberWorkspace } from '@/server/services/workspaces';

export async function generateMetadata(): Promise<Metadata> {
  const t = await getTranslations('invitation');
  // The token stays out of the title, and so out of history menus and shared screenshots.
  return { title: t('title'), referrer: 'no-referrer' };
}

/** An invitation link. Opening it changes nothing; the visitor signs in or up, then accepts. */
export default async function InvitationPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const t = await getTranslations('invitation');
  const [user, preview] = await Promise.all([currentUser(), previewInvitation(db(), token)]);
  const signedIn = user !== null;
  const home = (
    <Button asChild variant="secondary" className="h-9 w-full">
      <a href="/">{t('goHome')}</a>
    </Button>
  );
  if (!preview) {
    return (
      <AuthCard title={t('notFoundTitle')} signedIn={signedIn}>
        <p className="text-muted-foreground">{t('notFoundBody')}</p>
        {signedIn ? home : null}
      </AuthCard>
    );
  }
  const membership = user ? await findMemberWorkspace(db(), { userId: user.id, workspaceId: preview.workspace.id }) : null;
  if (membership) {
    return (
      <AuthCard title={t('heading', { workspace: preview.workspace.name })} signedIn>
        <p className="text-muted-foreground">{t('alreadyMember', { workspace: preview.workspace.name })}</p>
        <Button asChild className="h-9 w-full">
          <a href={`/w/${encodeURIComponent(preview.workspace.slug)}/chat`}>{t('openWorkspace', { workspace: preview.workspace.name })}</a>
        </Button>
      </AuthCard>
    );
  }
  if (preview.state !== 'pending') {
    return (
      <AuthCard title={t(`${preview.state}Title`)} signedIn={signedIn}>
        <p className="text-muted-foreground">{t(`${preview.state}Body`)}</p>
        {signedIn ? home : null}
      </AuthCard>
    );
  }
  return (
    <AuthCard title={t('heading', { workspace: preview.workspace.name })} signedIn={signedIn}>
      <InvitationCard
        token={token}
        workspace={{ name: preview.workspace.name, slug: preview.workspace.slug }}
        inviterName={preview.inviterName}
        role={preview.role}
        email={preview.email}
        expiresAt={preview.expiresAt.toISOString()}
        viewer={user ? { email: user.email } : null}
      />
    </AuthCard>
  );
}
