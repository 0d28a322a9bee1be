'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import { useState, type FormEvent } from 'react';
import { api, isApiError } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths, useInvitations, useMembers } from '@/components/api/queries';
import {
  createdInvitationResponse,
  createInvitationInput,
  INVITATION_DEFAULT_DAYS,
  invitationExpiryChoices,
  invitationRoles,
  type Invitation,
  type InvitationRole,
} from '@/server/contract/invitations';
import { changeMemberRoleInput, memberRoles, type Member, type MemberRole } from '@/server/contract/members';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { Avatar } from '@/components/ui/avatar';
import { SelectField, TextField } from '@/components/ui/field';
import { Loading } from '@/components/ui/loading';
import { useFormatDate } from '@/components/ui/use-format';
import { fieldErrors, useErrorText } from '@/components/ui/use-error-text';
import { RoleBadge } from './general-settings';
import { FormFieldset } from '@/components/ui/form-fieldset';

export function MembersSettings() {
  const t = useTranslations('settings.members');
  const errorText = useErrorText();
  const { workspace, isAdmin } = useWorkspace();
  const members = useMembers(workspace.id);

  return (
    <div className="stack-lg">
      {isAdmin ? <InviteMember /> : <p className="muted">{t('memberNotice')}</p>}
      <section className="card card-flush" aria-labelledby="members-title">
        <div className="card-header">
          <h2 id="members-title" className="card-title">
            {t('title')}
          </h2>
          {members.data ? <span className="muted">{t('count', { count: members.data.length })}</span> : null}
        </div>
        {members.isPending ? <Loading /> : null}
        {members.error ? <Alert>{errorText(members.error)}</Alert> : null}
        {members.data ? (
          <ul className="member-list" aria-label={t('title')}>
            {members.data.map((m) => (
              <MemberRow key={m.user_id} member={m} owners={members.data.filter((x) => x.role === 'owner').length} />
            ))}
          </ul>
        ) : null}
      </section>
      {isAdmin ? <PendingInvitations /> : null}
    </div>
  );
}

function MemberRow({ member, owners }: { member: Member; owners: number }) {
  const t = useTranslations('settings.members');
  const tRoles = useTranslations('roles');
  const errorText = useErrorText();
  const format = useFormatDate();
  const queryClient = useQueryClient();
  const { workspace, user, isAdmin, isOwner } = useWorkspace();
  const [confirming, setConfirming] = useState(false);
  const self = member.user_id === user.id;
  const lastOwner = member.role === 'owner' && owners <= 1;
  // Owners are only touched by owners; the last owner stays an owner (the server enforces both).
  const canChangeRole = isAdmin && (member.role !== 'owner' || isOwner) && !lastOwner;
  const canRemove = !self && isAdmin && (member.role !== 'owner' || isOwner) && !lastOwner;
  const canLeave = self && !lastOwner;

  const invalidate = () => queryClient.invalidateQueries({ queryKey: keys.members(workspace.id) });
  const changeRole = useMutation({
    mutationFn: (role: MemberRole) => api(paths.member(workspace.id, member.user_id), { method: 'PATCH', request: changeMemberRoleInput, body: { role } }),
    onSuccess: async () => {
      await invalidate();
      if (self) void queryClient.invalidateQueries({ queryKey: keys.workspaceInfo(workspace.id) });
    },
  });
  const remove = useMutation({
    mutationFn: () => api(paths.member(workspace.id, member.user_id), { method: 'DELETE' }),
    onSuccess: async () => {
      if (self) {
        window.location.assign('/');
        return;
      }
      setConfirming(false);
      await invalidate();
    },
  });

  const error = changeRole.error ?? remove.error;
  const assignable = memberRoles.filter((r) => r !== 'owner' || isOwner);
  return (
    <li className="member-row">
      <Avatar name={member.name} size="md" />
      <div className="member-main">
        <p className="member-name truncate">
          {member.name}
          {self ? <span className="muted"> {t('you')}</span> : null}
        </p>
        <p className="member-meta truncate">
          {member.email} · {t('joined', { date: format.date(member.joined_at) })}
        </p>
        {error ? <p className="field-error">{errorText(error)}</p> : null}
      </div>
      <div className="member-actions">
        {canChangeRole ? (
          <label className="inline-select">
            <span className="visually-hidden">{t('roleFor', { name: member.name })}</span>
            <select
              className="input select input-sm"
              value={member.role}
              disabled={changeRole.isPending}
              onChange={(e) => changeRole.mutate(e.target.value as MemberRole)}
            >
              {(assignable.includes(member.role) ? assignable : [member.role, ...assignable]).map((r) => (
                <option key={r} value={r}>
                  {tRoles(r)}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <RoleBadge role={member.role} />
        )}
        {canRemove || canLeave ? (
          confirming ? (
            <span className="confirm-inline" role="group" aria-label={self ? t('leaveConfirm') : t('removeConfirm', { name: member.name })}>
              <button type="button" className="btn btn-danger btn-sm" disabled={remove.isPending} onClick={() => remove.mutate()}>
                {self ? t('leaveConfirmButton') : t('removeConfirmButton')}
              </button>
              <button type="button" className="btn btn-ghost btn-sm" onClick={() => setConfirming(false)}>
                {t('cancel')}
              </button>
            </span>
          ) : (
            <button
              type="button"
              className="btn btn-ghost btn-sm"
              aria-label={self ? t('leave') : t('removeMember', { name: member.name })}
              onClick={() => setConfirming(true)}
            >
              {self ? t('leave') : t('remove')}
            </button>
          )
        ) : null}
      </div>
    </li>
  );
}

function InviteMember() {
  const t = useTranslations('settings.members');
  const tRoles = useTranslations('roles');
  const errorText = useErrorText();
  const queryClient = useQueryClient();
  const { workspace } = useWorkspace();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<InvitationRole>('member');
  const [days, setDays] = useState<number>(INVITATION_DEFAULT_DAYS);
  const create = useMutation({
    mutationFn: (input: { email: string; role: InvitationRole; expires_in_days: number }) =>
      api(paths.invitations(workspace.id), { method: 'POST', request: createInvitationInput, body: input, response: createdInvitationResponse }),
    onSuccess: async () => {
      setEmail('');
      setRole('member');
      setDays(INVITATION_DEFAULT_DAYS);
      await queryClient.invalidateQueries({ queryKey: keys.invitations(workspace.id) });
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate({ email: email.trim(), role, expires_in_days: days });
  }

  const fields = fieldErrors(create.error);
  const summary =
    create.error && !fields.email && !fields.role && !fields.expires_in_days
      ? isApiError(create.error) && create.error.code === 'conflict'
        ? t('alreadyMember')
        : errorText(create.error)
      : null;
  return (
    <section className="card" aria-labelledby="invite-member-title">
      <h2 id="invite-member-title" className="card-title">
        {t('inviteTitle')}
      </h2>
      <p className="muted">{t('inviteBody')}</p>
      <form method="post" onSubmit={submit} noValidate>
        <FormFieldset className="inline-form">
          <TextField
            label={t('inviteEmail')}
            type="email"
            name="email"
            autoComplete="off"
            value={email}
            error={fields.email}
            onChange={(e) => setEmail(e.target.value)}
          />
          <SelectField label={t('role')} name="role" value={role} error={fields.role} onChange={(e) => setRole(e.target.value as InvitationRole)}>
            {invitationRoles.map((r) => (
              <option key={r} value={r}>
                {tRoles(r)}
              </option>
            ))}
          </SelectField>
          <SelectField
            label={t('expiresIn')}
            name="expires_in_days"
            value={String(days)}
            error={fields.expires_in_days}
            onChange={(e) => setDays(Number(e.target.value))}
          >
            {invitationExpiryChoices.map((d) => (
              <option key={d} value={d}>
                {t('expiresInDays', { count: d })}
              </option>
            ))}
          </SelectField>
          <div className="inline-form-action">
            <button type="submit" className="btn btn-primary" disabled={create.isPending}>
              {create.isPending ? t('creatingInvite') : t('createInvite')}
            </button>
          </div>
        </FormFieldset>
      </form>
      {summary ? <Alert>{summary}</Alert> : null}
      {create.data && create.isSuccess ? <CreatedLink url={create.data.url} email={create.data.invitation.email} /> : null}
    </section>
  );
}

/** The link exists only in this answer: the server keeps a hash of its token. */
function CreatedLink({ url, email }: { url: string; email: string | null }) {
  const t = useTranslations('settings.members');
  const [copied, setCopied] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(url);
      setCopied(true);
    } catch {
      // No clipboard (an insecure origin, a denied permission): the field stays selectable.
      setCopied(false);
    }
  }
  return (
    <div className="stack">
      <Alert tone="success">{email ? t('inviteCreatedFor', { email }) : t('inviteCreatedAnyone')}</Alert>
      <div className="inline-form">
        <TextField label={t('inviteLink')} name="invite_link" readOnly value={url} hint={t('inviteLinkOnce')} onFocus={(e) => e.currentTarget.select()} />
        <div className="inline-form-action">
          <button type="button" className="btn btn-secondary" onClick={() => void copy()}>
            {copied ? t('copied') : t('copyLink')}
          </button>
        </div>
      </div>
    </div>
  );
}

function PendingInvitations() {
  const t = useTranslations('settings.members');
  const errorText = useErrorText();
  const { workspace } = useWorkspace();
  const invitations = useInvitations(workspace.id, { enabled: true });
  return (
    <section className="card card-flush" aria-labelledby="pending-invitations-title">
      <div className="card-header">
        <h2 id="pending-invitations-title" className="card-title">
          {t('pendingTitle')}
        </h2>
        {invitations.data ? <span className="muted">{t('pendingCount', { count: invitations.data.length })}</span> : null}
      </div>
      {invitations.isPending ? <Loading /> : null}
      {invitations.error ? <Alert>{errorText(invitations.error)}</Alert> : null}
      {invitations.data && invitations.data.length === 0 ? <p className="muted member-row">{t('pendingEmpty')}</p> : null}
      {invitations.data && invitations.data.length > 0 ? (
        <ul className="member-list" aria-label={t('pendingTitle')}>
          {invitations.data.map((inv) => (
            <PendingInvitationRow key={inv.id} invitation={inv} />
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function PendingInvitationRow({ invitation }: { invitation: Invitation }) {
  const t = useTranslations('settings.members');
  const errorText = useErrorText();
  const format = useFormatDate();
  const queryClient = useQueryClient();
  const { workspace } = useWorkspace();
  const who = invitation.email ?? t('anyoneWithLink');
  const revoke = useMutation({
    mutationFn: () => api(paths.invitation(workspace.id, invitation.id), { method: 'DELETE' }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: keys.invitations(workspace.id) }),
  });
  return (
    <li className="member-row" aria-label={who}>
      <div className="member-main">
        <p className="member-name truncate">{who}</p>
        <p className="member-meta truncate">
          {invitation.created_by ? `${t('invitedBy', { name: invitation.created_by.name })} · ` : ''}
          {t('expires', { date: format.dateTime(invitation.expires_at) })}
        </p>
        {revoke.error ? <p className="field-error">{errorText(revoke.error)}</p> : null}
      </div>
      <div className="member-actions">
        <RoleBadge role={invitation.role} />
        <button
          type="button"
          className="btn btn-ghost btn-sm"
          aria-label={t('revokeInvite', { who })}
          disabled={revoke.isPending}
          onClick={() => revoke.mutate()}
        >
          {t('revoke')}
        </button>
      </div>
    </li>
  );
}
