'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import { useState, type FormEvent } from 'react';
import { api, isApiError } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths, useMembers } from '@/components/api/queries';
import { addMemberInput, changeMemberRoleInput, memberResponse, memberRoles, type Member, type MemberRole } from '@/server/contract/members';
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
      {isAdmin ? <AddMember /> : <p className="muted">{t('memberNotice')}</p>}
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

function AddMember() {
  const t = useTranslations('settings.members');
  const tRoles = useTranslations('roles');
  const errorText = useErrorText();
  const queryClient = useQueryClient();
  const { workspace, isOwner } = useWorkspace();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<MemberRole>('member');
  const [added, setAdded] = useState<string | null>(null);
  const add = useMutation({
    mutationFn: (input: { email: string; role: MemberRole }) =>
      api(paths.members(workspace.id), { method: 'POST', request: addMemberInput, body: input, response: memberResponse }),
    onSuccess: async ({ member }) => {
      setAdded(member?.name ?? email);
      setEmail('');
      setRole('member');
      await queryClient.invalidateQueries({ queryKey: keys.members(workspace.id) });
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    if (!email.trim()) return;
    setAdded(null);
    add.mutate({ email: email.trim(), role });
  }

  const fields = fieldErrors(add.error);
  const summary =
    add.error && !fields.email && !fields.role
      ? isApiError(add.error) && add.error.code === 'conflict'
        ? t('alreadyMember')
        : errorText(add.error)
      : null;
  return (
    <section className="card" aria-labelledby="add-member-title">
      <h2 id="add-member-title" className="card-title">
        {t('addTitle')}
      </h2>
      <p className="muted">{t('addBody')}</p>
      <form method="post" onSubmit={submit} noValidate>
        <FormFieldset className="inline-form">
          <TextField
            label={t('email')}
            type="email"
            name="email"
            autoComplete="off"
            required
            value={email}
            error={fields.email}
            onChange={(e) => setEmail(e.target.value)}
          />
          <SelectField label={t('role')} name="role" value={role} error={fields.role} onChange={(e) => setRole(e.target.value as MemberRole)}>
            {memberRoles
              .filter((r) => r !== 'owner' || isOwner)
              .map((r) => (
                <option key={r} value={r}>
                  {tRoles(r)}
                </option>
              ))}
          </SelectField>
          <div className="inline-form-action">
            <button type="submit" className="btn btn-primary" disabled={add.isPending || !email.trim()}>
              {add.isPending ? t('adding') : t('add')}
            </button>
          </div>
        </FormFieldset>
      </form>
      {summary ? <Alert>{summary}</Alert> : null}
      {added && add.isSuccess ? <Alert tone="success">{t('added', { name: added })}</Alert> : null}
    </section>
  );
}
