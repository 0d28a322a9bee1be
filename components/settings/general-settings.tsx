'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { api } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths } from '@/components/api/queries';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { TextField } from '@/components/ui/field';
import { fieldErrors, useErrorText } from '@/components/ui/use-error-text';
import { FormFieldset } from '@/components/ui/form-fieldset';
import type { MemberRole } from '@/server/contract/members';
import { renameWorkspaceInput, workspaceResponse } from '@/server/contract/workspaces';

export function GeneralSettings() {
  const t = useTranslations('settings.general');
  const errorText = useErrorText();
  const router = useRouter();
  const queryClient = useQueryClient();
  const { workspace, isAdmin } = useWorkspace();
  const [name, setName] = useState(workspace.name);
  const [nameError, setNameError] = useState<string | undefined>();
  const rename = useMutation({
    mutationFn: (input: { name: string }) => api(paths.workspace(workspace.id), { method: 'PATCH', request: renameWorkspaceInput, body: input, response: workspaceResponse }),
    onSuccess: ({ workspace: saved }) => {
      queryClient.setQueryData(keys.workspaceInfo(workspace.id), { ...workspace, ...saved, role: saved.role ?? workspace.role });
      void queryClient.invalidateQueries({ queryKey: keys.me });
      // Server-rendered parts (the switcher's first paint, titles) pick up the new name too.
      router.refresh();
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    if (!name.trim()) {
      setNameError(t('nameRequired'));
      return;
    }
    setNameError(undefined);
    rename.mutate({ name: name.trim() });
  }

  return (
    <div className="stack-lg">
      <section className="card" aria-labelledby="settings-general-title">
        <h2 id="settings-general-title" className="card-title">
          {t('title')}
        </h2>
        {isAdmin ? null : <p className="muted">{t('readOnly')}</p>}
        <form method="post" onSubmit={submit} noValidate>
          <FormFieldset className="stack">
            {rename.error ? <Alert>{errorText(rename.error)}</Alert> : null}
            {rename.isSuccess ? <Alert tone="success">{t('saved')}</Alert> : null}
            <TextField
              label={t('name')}
              name="name"
              required
              maxLength={80}
              value={name}
              readOnly={!isAdmin}
              error={nameError ?? fieldErrors(rename.error).name}
              onChange={(e) => setName(e.target.value)}
            />
            {isAdmin ? (
              <div className="form-actions">
                <button type="submit" className="btn btn-primary" disabled={rename.isPending || name.trim() === workspace.name}>
                  {rename.isPending ? t('saving') : t('save')}
                </button>
              </div>
            ) : null}
          </FormFieldset>
        </form>
      </section>
      <section className="card" aria-labelledby="settings-identity-title">
        <h2 id="settings-identity-title" className="card-title">
          {t('identityTitle')}
        </h2>
        <dl className="details">
          <dt>{t('slug')}</dt>
          <dd className="mono">{workspace.slug}</dd>
          <dt>{t('issuePrefix')}</dt>
          <dd className="mono">{workspace.issue_prefix}</dd>
          <dt>{t('yourRole')}</dt>
          <dd>
            <RoleBadge role={workspace.role} />
          </dd>
        </dl>
      </section>
    </div>
  );
}

export function RoleBadge({ role }: { role: MemberRole }) {
  const t = useTranslations('roles');
  return <span className={`badge badge-role-${role}`}>{t(role)}</span>;
}
