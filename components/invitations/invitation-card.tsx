'use client';

import { useMutation } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import { useState } from 'react';
import { api, isApiError } from '@/components/api/client';
import { paths } from '@/components/api/queries';
import { authClient } from '@/components/auth/auth-client';
import { signInPath } from '@/components/auth/next-path';
import { Alert } from '@/components/ui/alert';
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
  // Dates use the browser's time zone, so they appear once React owns the page.
  const hydrated = useHydrated();
  const here = invitationPath(token);
  const roleName = tRoles(role);
  const wrongAccount = viewer !== null && email !== null && viewer.email.toLowerCase() !== email;

  return (
    <div className="stack">
      <p>
        {inviterName
          ? t('body', { inviter: inviterName, workspace: workspace.name, role: roleName })
          : t('bodyNoInviter', { workspace: workspace.name, role: roleName })}
      </p>
      <p className="muted">{t('about')}</p>
      {email ? <p className="muted">{t('forEmail', { email })}</p> : null}
      {hydrated ? <p className="muted">{t('expires', { date: format.dateTime(expiresAt) })}</p> : null}
      {viewer === null ? (
        <>
          <p className="muted">{t('signedOut')}</p>
          <a href={signInPath(here)} className="btn btn-primary btn-block">
            {t('signIn')}
          </a>
          <a href={`/sign-up?next=${encodeURIComponent(here)}`} className="btn btn-secondary btn-block">
            {t('createAccount')}
          </a>
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
      <p className="muted auth-footnote">{t('signedInAs', { email: viewerEmail })}</p>
      {error && !alreadyMember ? <Alert>{errorText(error)}</Alert> : null}
      {alreadyMember ? (
        <>
          <Alert tone="info">{t('alreadyMember', { workspace: workspace.name })}</Alert>
          <a href={`/w/${encodeURIComponent(workspace.slug)}/chat`} className="btn btn-primary btn-block">
            {t('openWorkspace', { workspace: workspace.name })}
          </a>
        </>
      ) : (
        <button type="button" className="btn btn-primary btn-block" disabled={accept.isPending || accept.isSuccess} onClick={() => accept.mutate()}>
          {accept.isPending || accept.isSuccess ? t('accepting') : t('accept')}
        </button>
      )}
      <SwitchAccount path={path} />
    </>
  );
}

/** Signs out and comes back to this link, so another account can accept it. */
function SwitchAccount({ path, primary = false }: { path: string; primary?: boolean }) {
  const t = useTranslations('invitation');
  const [pending, setPending] = useState(false);
  async function switchAccount() {
    setPending(true);
    try {
      await authClient.signOut();
    } finally {
      window.location.assign(signInPath(path));
    }
  }
  return (
    <button type="button" className={`btn ${primary ? 'btn-primary' : 'btn-ghost'} btn-block`} disabled={pending} onClick={() => void switchAccount()}>
      {t('switchAccount')}
    </button>
  );
}
