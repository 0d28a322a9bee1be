'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Check, Copy, Link2, Mail } from 'lucide-react';
import { useTranslations } from 'next-intl';
import { useState, type ReactNode } from 'react';
import { useForm } from 'react-hook-form';
import type { z } from 'zod';
import { api, isApiError } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths, useInvitations, useMembers } from '@/components/api/queries';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { Avatar } from '@/components/ui/avatar';
import { Button } from '@/components/ui/button';
import { Card, CardDescription, CardHeader, CardTitle } from '@/components/ui/card';
import { Dialog, DialogClose, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle, DialogTrigger } from '@/components/ui/dialog';
import { TextField } from '@/components/ui/field';
import { Form, FormControl, FormField, FormItem, FormLabel, FormMessage, setServerErrors } from '@/components/ui/form';
import { FormFieldset } from '@/components/ui/form-fieldset';
import { Input } from '@/components/ui/input';
import { Loading } from '@/components/ui/loading';
import { NativeSelect } from '@/components/ui/native-select';
import { useErrorText } from '@/components/ui/use-error-text';
import { useFormatDate } from '@/components/ui/use-format';
import {
  createdInvitationResponse,
  createInvitationInput,
  INVITATION_DEFAULT_DAYS,
  invitationExpiryChoices,
  invitationRoles,
  type CreateInvitationInput,
  type Invitation,
} from '@/server/contract/invitations';
import { changeMemberRoleInput, memberRoles, type Member, type MemberRole } from '@/server/contract/members';
import { RoleBadge } from './role-badge';

const rowClassName = 'flex items-center gap-3 px-5 py-3 max-md:flex-wrap max-md:px-4';
const rowMainClassName = 'min-w-0 flex-1';
const rowNameClassName = 'truncate font-medium';
const rowMetaClassName = 'truncate text-[12.5px] text-muted-foreground';
// On narrow screens the actions drop below the name, lined up with it (past the 32px avatar).
const rowActionsClassName = 'flex flex-wrap items-center justify-end gap-2 max-md:w-full max-md:justify-start max-md:pl-11';
const rowErrorClassName = 'mt-0.5 text-[12.5px] text-destructive';

/** A card holding a list: a title bar with a count, then rows edge to edge. */
function ListCard({ id, title, aside, children }: { id: string; title: string; aside?: ReactNode; children: ReactNode }) {
  return (
    <Card role="region" aria-labelledby={id} className="gap-0 overflow-hidden p-0">
      <div className="flex items-baseline justify-between gap-3 border-b px-5 py-3.5 max-md:px-4 max-md:py-3">
        <CardTitle id={id}>{title}</CardTitle>
        {aside ? <span className="text-muted-foreground">{aside}</span> : null}
      </div>
      {children}
    </Card>
  );
}

export function MembersSettings() {
  const t = useTranslations('settings.members');
  const errorText = useErrorText();
  const { workspace, isAdmin } = useWorkspace();
  const members = useMembers(workspace.id);

  return (
    <div className="flex flex-col gap-5">
      {isAdmin ? <InviteMember /> : <p className="text-muted-foreground">{t('memberNotice')}</p>}
      <ListCard id="members-title" title={t('title')} aside={members.data ? t('count', { count: members.data.length }) : null}>
        {members.isPending ? <Loading /> : null}
        {members.error ? (
          <div className="p-4">
            <Alert>{errorText(members.error)}</Alert>
          </div>
        ) : null}
        {members.data ? (
          <ul className="divide-y" aria-label={t('title')}>
            {members.data.map((m) => (
              <MemberRow key={m.user_id} member={m} owners={members.data.filter((x) => x.role === 'owner').length} />
            ))}
          </ul>
        ) : null}
      </ListCard>
      {isAdmin ? <PendingInvitations /> : null}
    </div>
  );
}

type RoleValues = { role: MemberRole };

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

  // `values` follows the member list, so a role changed elsewhere shows here too.
  const form = useForm<RoleValues>({ resolver: zodResolver(changeMemberRoleInput), values: { role: member.role } });
  const invalidate = () => queryClient.invalidateQueries({ queryKey: keys.members(workspace.id) });
  const changeRole = useMutation({
    mutationFn: (input: RoleValues) => api(paths.member(workspace.id, member.user_id), { method: 'PATCH', request: changeMemberRoleInput, body: input }),
    onSuccess: async () => {
      await invalidate();
      if (self) void queryClient.invalidateQueries({ queryKey: keys.workspaceInfo(workspace.id) });
    },
    onError: (err) => {
      // The select goes back to the role the member still has, and says why.
      form.reset({ role: member.role });
      if (isApiError(err) && setServerErrors(form, err.fields)) return;
      form.setError('role', { type: 'server', message: errorText(err) });
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

  const assignable = memberRoles.filter((r) => r !== 'owner' || isOwner);
  const options = assignable.includes(member.role) ? assignable : [member.role, ...assignable];

  const row = (roleControl: ReactNode, roleMessage: ReactNode) => (
    <>
      <Avatar name={member.name} size="md" />
      <div className={rowMainClassName}>
        <p className={rowNameClassName}>
          {member.name}
          {self ? <span className="font-normal text-muted-foreground"> {t('you')}</span> : null}
        </p>
        <p className={rowMetaClassName}>
          {member.email} · {t('joined', { date: format.date(member.joined_at) })}
        </p>
        {roleMessage}
      </div>
      <div className={rowActionsClassName}>
        {roleControl}
        {canRemove || canLeave ? (
          <Dialog
            open={confirming}
            onOpenChange={(open) => {
              setConfirming(open);
              if (!open) remove.reset();
            }}
          >
            <DialogTrigger asChild>
              <Button type="button" variant="ghost" size="sm" aria-label={self ? t('leave') : t('removeMember', { name: member.name })}>
                {self ? t('leave') : t('remove')}
              </Button>
            </DialogTrigger>
            <DialogContent className="max-w-md">
              <DialogHeader>
                <DialogTitle>{self ? t('leaveConfirm') : t('removeConfirm', { name: member.name })}</DialogTitle>
                <DialogDescription>{self ? t('leaveConfirmBody') : t('removeConfirmBody')}</DialogDescription>
              </DialogHeader>
              {remove.error ? <Alert>{errorText(remove.error)}</Alert> : null}
              <DialogFooter>
                <DialogClose asChild>
                  <Button type="button" variant="secondary">
                    {t('cancel')}
                  </Button>
                </DialogClose>
                <Button type="button" variant="destructive" disabled={remove.isPending || remove.isSuccess} onClick={() => remove.mutate()}>
                  {self ? t('leaveConfirmButton') : t('removeConfirmButton')}
                </Button>
              </DialogFooter>
            </DialogContent>
          </Dialog>
        ) : null}
      </div>
    </>
  );

  if (!canChangeRole) return <li className={rowClassName}>{row(<RoleBadge role={member.role} />, null)}</li>;
  return (
    <li className={rowClassName}>
      <Form {...form}>
        <FormField
          control={form.control}
          name="role"
          render={({ field }) => (
            // No box of its own: the select sits with the actions, its message under the name.
            <FormItem className="contents">
              {row(
                <div className="w-32">
                  <FormLabel className="sr-only">{t('roleFor', { name: member.name })}</FormLabel>
                  <FormControl>
                    <NativeSelect
                      size="sm"
                      {...field}
                      disabled={changeRole.isPending}
                      onChange={(e) => {
                        field.onChange(e);
                        void form.handleSubmit((values) => changeRole.mutate(values))();
                      }}
                    >
                      {options.map((r) => (
                        <option key={r} value={r}>
                          {tRoles(r)}
                        </option>
                      ))}
                    </NativeSelect>
                  </FormControl>
                </div>,
                <FormMessage className="mt-0.5" />,
              )}
            </FormItem>
          )}
        />
      </Form>
    </li>
  );
}

/** What the invite form holds; the contract turns a blank email into "anyone with the link". */
type InviteValues = z.input<typeof createInvitationInput>;
const inviteDefaults: InviteValues = { email: '', role: 'member', expires_in_days: INVITATION_DEFAULT_DAYS };
const inviteFields = ['email', 'role', 'expires_in_days'] as const;

function InviteMember() {
  const t = useTranslations('settings.members');
  const tRoles = useTranslations('roles');
  const tAuth = useTranslations('auth');
  const errorText = useErrorText();
  const queryClient = useQueryClient();
  const { workspace } = useWorkspace();
  const form = useForm<InviteValues, unknown, CreateInvitationInput>({ resolver: zodResolver(createInvitationInput), defaultValues: inviteDefaults });
  // A failure that no field can show.
  const [summary, setSummary] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (input: CreateInvitationInput) =>
      api(paths.invitations(workspace.id), { method: 'POST', request: createInvitationInput, body: input, response: createdInvitationResponse }),
    onSuccess: async () => {
      form.reset(inviteDefaults);
      await queryClient.invalidateQueries({ queryKey: keys.invitations(workspace.id) });
    },
    onError: (err) => {
      if (isApiError(err) && err.code === 'conflict' && err.fields.email) {
        form.setError('email', { type: 'server', message: t('alreadyMember') }, { shouldFocus: true });
        return;
      }
      if (isApiError(err)) {
        // setServerErrors, for a form whose values and output differ (the contract trims and coerces).
        const named = inviteFields.filter((name) => err.fields[name]);
        named.forEach((name, i) => form.setError(name, { type: 'server', message: err.fields[name] }, { shouldFocus: i === 0 }));
        if (named.length > 0) return;
      }
      setSummary(errorText(err));
    },
  });

  function submit(input: CreateInvitationInput) {
    setSummary(null);
    create.mutate(input);
  }

  return (
    <Card role="region" aria-labelledby="invite-member-title">
      <CardHeader>
        <CardTitle id="invite-member-title">{t('inviteTitle')}</CardTitle>
        <CardDescription>{t('inviteBody')}</CardDescription>
      </CardHeader>
      <Form {...form} messages={{ email: tAuth('invalidEmail') }}>
        <form method="post" onSubmit={form.handleSubmit(submit)} noValidate>
          <FormFieldset className="grid items-start gap-2.5 sm:grid-cols-2 lg:grid-cols-[minmax(0,1fr)_9rem_9rem_auto]">
            <FormField
              control={form.control}
              name="email"
              render={({ field }) => (
                <FormItem>
                  <FormLabel>{t('inviteEmail')}</FormLabel>
                  <FormControl>
                    <Input type="email" autoComplete="off" maxLength={254} {...field} value={field.value ?? ''} />
                  </FormControl>
                  <FormMessage />
                </FormItem>
              )}
            />
            <FormField
              control={form.control}
              name="role"
              render={({ field }) => (
                <FormItem>
                  <FormLabel>{t('role')}</FormLabel>
                  <FormControl>
                    <NativeSelect {...field}>
                      {invitationRoles.map((r) => (
                        <option key={r} value={r}>
                          {tRoles(r)}
                        </option>
                      ))}
                    </NativeSelect>
                  </FormControl>
                  <FormMessage />
                </FormItem>
              )}
            />
            <FormField
              control={form.control}
              name="expires_in_days"
              render={({ field }) => (
                <FormItem>
                  <FormLabel>{t('expiresIn')}</FormLabel>
                  <FormControl>
                    <NativeSelect {...field} value={String(field.value)} onChange={(e) => field.onChange(Number(e.target.value))}>
                      {invitationExpiryChoices.map((d) => (
                        <option key={d} value={d}>
                          {t('expiresInDays', { count: d })}
                        </option>
                      ))}
                    </NativeSelect>
                  </FormControl>
                  <FormMessage />
                </FormItem>
              )}
            />
            {/* Lined up with the controls, below their labels. */}
            <div className="sm:pt-6">
              <Button type="submit" className="h-[34px] w-full sm:w-auto" disabled={create.isPending}>
                {create.isPending ? t('creatingInvite') : t('createInvite')}
              </Button>
            </div>
          </FormFieldset>
        </form>
      </Form>
      {summary ? <Alert>{summary}</Alert> : null}
      {create.data && create.isSuccess ? <CreatedLink key={create.data.url} url={create.data.url} email={create.data.invitation.email} /> : null}
    </Card>
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
    <div className="flex flex-col gap-3">
      <Alert tone="success">{email ? t('inviteCreatedFor', { email }) : t('inviteCreatedAnyone')}</Alert>
      <div className="grid items-start gap-2.5 sm:grid-cols-[minmax(0,1fr)_auto]">
        <TextField
          label={t('inviteLink')}
          name="invite_link"
          readOnly
          value={url}
          hint={t('inviteLinkOnce')}
          className="font-mono text-[12.5px]"
          onFocus={(e) => e.currentTarget.select()}
        />
        <div className="sm:pt-6">
          <Button type="button" variant="secondary" className="h-[34px] w-full sm:w-auto" onClick={() => void copy()}>
            {copied ? <Check aria-hidden="true" /> : <Copy aria-hidden="true" />}
            {copied ? t('copied') : t('copyLink')}
          </Button>
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
    <ListCard
      id="pending-invitations-title"
      title={t('pendingTitle')}
      aside={invitations.data ? t('pendingCount', { count: invitations.data.length }) : null}
    >
      {invitations.isPending ? <Loading /> : null}
      {invitations.error ? (
        <div className="p-4">
          <Alert>{errorText(invitations.error)}</Alert>
        </div>
      ) : null}
      {invitations.data && invitations.data.length === 0 ? <p className="px-5 py-3 text-muted-foreground max-md:px-4">{t('pendingEmpty')}</p> : null}
      {invitations.data && invitations.data.length > 0 ? (
        <ul className="divide-y" aria-label={t('pendingTitle')}>
          {invitations.data.map((inv) => (
            <PendingInvitationRow key={inv.id} invitation={inv} />
          ))}
        </ul>
      ) : null}
    </ListCard>
  );
}

function PendingInvitationRow({ invitation }: { invitation: Invitation }) {
  const t = useTranslations('settings.members');
  const errorText = useErrorText();
  const format = useFormatDate();
  const queryClient = useQueryClient();
  const { workspace } = useWorkspace();
  const who = invitation.email ?? t('anyoneWithLink');
  const Icon = invitation.email ? Mail : Link2;
  const revoke = useMutation({
    mutationFn: () => api(paths.invitation(workspace.id, invitation.id), { method: 'DELETE' }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: keys.invitations(workspace.id) }),
  });
  return (
    <li className={rowClassName} aria-label={who}>
      <span className="inline-flex size-8 shrink-0 items-center justify-center rounded-full bg-muted text-muted-foreground ring-1 ring-border ring-inset">
        <Icon aria-hidden="true" className="size-4" />
      </span>
      <div className={rowMainClassName}>
        <p className={rowNameClassName}>{who}</p>
        <p className={rowMetaClassName}>
          {invitation.created_by ? `${t('invitedBy', { name: invitation.created_by.name })} · ` : ''}
          {t('expires', { date: format.dateTime(invitation.expires_at) })}
        </p>
        {revoke.error ? <p className={rowErrorClassName}>{errorText(revoke.error)}</p> : null}
      </div>
      <div className={rowActionsClassName}>
        <RoleBadge role={invitation.role} />
        <Button type="button" variant="ghost" size="sm" aria-label={t('revokeInvite', { who })} disabled={revoke.isPending} onClick={() => revoke.mutate()}>
          {t('revoke')}
        </Button>
      </div>
    </li>
  );
}
