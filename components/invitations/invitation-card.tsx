'use client';

import { useMutation } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import { api, isApiError } from '@/components/api/client';
import { paths } from '@/components/api/queries';
import { signInPath } from '@/components/auth/next-path';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { ConfirmButton, SwitchAccountButton } from '@/components/ui/confirm-actions';
import { useFormatDate } from '@/components/ui/use-format';
import { useHydrated } from '@/components/ui/use-hydrated';
import { useErrorText } from '@/components/ui/use-error-text';
import { acceptedInvitationResponse, acceptInvitationInput, type InvitationRole } from '@/server/contract/invitations';
import { invitationPath } from './invitation-path';

export type InvitationCardProps = {
  token: string;
  workspace: { name: string; slug: string };
  inviterName: string | null;
  role: InvitationRole;
  /** The only email that may accept, when the inviter named one. */
  email: string | null;
  expiresAt: string;
  /** The signed-in account; null when signed out. */
  viewer: { email: string } | null;
};

/**
 * What the invitation is and where it leads; joining happens only on the explicit button (a POST),
 * never by opening the link.
 */
export function InvitationCard({ token, workspace, inviterName, role, email, expiresAt, viewer }: InvitationCardProps) {
  const t = useTranslations('invitation');
  const tRoles = useTranslations('roles');
  const format = useFormatDate();
  // Dates use the browser's time zone, so they appear once React owns the page; their line is held
  // from the start, so the buttons below do not move under a pointer (or a test) as it arrives.
  const hydrated = useHydrated();
  const here = invitationPath(token);
  const roleName = tRoles(role);
  const wrongAccount = viewer !== null && email !== null && viewer.email.toLowerCase() !== email;

  return (
    <div className="flex flex-col gap-3.5">
      <p>
        {inviterName
          ? t('body', { inviter: inviterName, workspace: workspace.name, role: roleName })
          : t('bodyNoInviter', { workspace: workspace.name, role: roleName })}
      </p>
      <p className="text-muted-foreground">{t('about')}</p>
      {email ? <p className="text-muted-foreground">{t('forEmail', { email })}</p> : null}
      <p className="text-muted-foreground" data-testid="invitation-expires">
        {hydrated ? t('expires', { date: format.dateTime(expiresAt) }) : '\u00a0'}
      </p>
      {viewer === null ? (
        <>
          <p className="text-muted-foreground">{t('signedOut')}</p>
          <Button asChild className="h-9 w-full">
            <a href={signInPath(here)}>{t('signIn')}</a>
          </Button>
          <Button asChild variant="secondary" className="h-9 w-full">
            <a href={`/sign-up?next=${encodeURIComponent(here)}`}>{t('createAccount')}</a>
          </Button>
        </>
      ) : wrongAccount ? (
        <>
          <Alert tone="warning">{t('wrongAccount', { email: email ?? '', current: viewer.email })}</Alert>
          <SwitchAccount path={here} primary />
        </>
      ) : (
        <AcceptInvitation token={token} workspace={workspace} viewerEmail={viewer.email} path={here} />
      )}
    </div>
  );
}

function AcceptInvitation({ token, workspace, viewerEmail, path }: { token: string; workspace: { name: string; slug: string }; viewerEmail: string; path: string }) {
  const t = useTranslations('invitation');
  const errorText = useErrorText();
  const accept = useMutation({
    mutationFn: () => api(paths.acceptInvitation, { method: 'POST', request: acceptInvitationInput, body: { token }, response: acceptedInvitationResponse }),
    // A full load: the new membership shows in every server-rendered part of the workspace.
    onSuccess: (joined) => window.location.assign(`/w/${encodeURIComponent(joined.workspace.slug)}/chat`),
  });
  const error = accept.error;
  const alreadyMember = isApiError(error) && error.status === 409;
  return (
    <>
      <p className="text-[12.5px] text-muted-foreground">{t('signedInAs', { email: viewerEmail })}</p>
      {error && !alreadyMember ? <Alert>{errorText(error)}</Alert> : null}
      {alreadyMember ? (
        <>
          <Alert tone="info">{t('alreadyMember', { workspace: workspace.name })}</Alert>
          <Button asChild className="h-9 w-full">
            <a href={`/w/${encodeURIComponent(workspace.slug)}/chat`}>{t('openWorkspace', { workspace: workspace.name })}</a>
          </Button>
        </>
      ) : (
        <ConfirmButton pending={accept.isPending || accept.isSuccess} pendingLabel={t('accepting')} onClick={() => accept.mutate()}>
          {t('accept')}
        </ConfirmButton>
      )}
      <SwitchAccount path={path} />
    </>
  );
}

/** Signs out and comes back to this link, so another account can accept it. */
function SwitchAccount({ path, primary = false }: { path: string; primary?: boolean }) {
  const t = useTranslations('invitation');
  return (
    <SwitchAccountButton path={path} variant={primary ? 'default' : 'ghost'}>
      {t('switchAccount')}
    </SwitchAccountButton>
  );
}
