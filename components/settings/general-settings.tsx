'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { useForm, useWatch } from 'react-hook-form';
import { toast } from 'sonner';
import { api, isApiError } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths } from '@/components/api/queries';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Card, CardDescription, CardHeader, CardTitle } from '@/components/ui/card';
import { Form, FormControl, FormField, FormItem, FormLabel, FormMessage, setServerErrors } from '@/components/ui/form';
import { FormFieldset } from '@/components/ui/form-fieldset';
import { Input } from '@/components/ui/input';
import { useErrorText } from '@/components/ui/use-error-text';
import { renameWorkspaceInput, workspaceResponse } from '@/server/contract/workspaces';
import { RoleBadge } from './role-badge';

type RenameValues = { name: string };

export function GeneralSettings() {
  const t = useTranslations('settings.general');
  const { workspace, isAdmin } = useWorkspace();

  return (
    <div className="flex flex-col gap-5">
      <Card role="region" aria-labelledby="settings-general-title">
        <CardHeader>
          <CardTitle id="settings-general-title">{t('title')}</CardTitle>
          {isAdmin ? null : <CardDescription>{t('readOnly')}</CardDescription>}
        </CardHeader>
        <RenameForm />
      </Card>
      <Card role="region" aria-labelledby="settings-identity-title">
        <CardHeader>
          <CardTitle id="settings-identity-title">{t('identityTitle')}</CardTitle>
        </CardHeader>
        <dl className="grid grid-cols-[max-content_minmax(0,1fr)] items-center gap-x-5 gap-y-2">
          <dt className="text-muted-foreground">{t('slug')}</dt>
          <dd className="font-mono text-[0.92em] [overflow-wrap:anywhere]">{workspace.slug}</dd>
          <dt className="text-muted-foreground">{t('issuePrefix')}</dt>
          <dd className="font-mono text-[0.92em] [overflow-wrap:anywhere]">{workspace.issue_prefix}</dd>
          <dt className="text-muted-foreground">{t('yourRole')}</dt>
          <dd>
            <RoleBadge role={workspace.role} />
          </dd>
        </dl>
      </Card>
    </div>
  );
}

function RenameForm() {
  const t = useTranslations('settings.general');
  const errorText = useErrorText();
  const router = useRouter();
  const queryClient = useQueryClient();
  const { workspace, isAdmin } = useWorkspace();
  const form = useForm<RenameValues>({ resolver: zodResolver(renameWorkspaceInput), defaultValues: { name: workspace.name } });
  const name = useWatch({ control: form.control, name: 'name' });
  // A failure that the name field cannot show.
  const [summary, setSummary] = useState<string | null>(null);

  // Renamed elsewhere (another tab, another admin): follow it unless someone is typing here.
  const { isDirty } = form.formState;
  useEffect(() => {
    if (!isDirty) form.reset({ name: workspace.name });
  }, [workspace.name, isDirty, form]);

  const rename = useMutation({
    mutationFn: (input: RenameValues) => api(paths.workspace(workspace.id), { method: 'PATCH', request: renameWorkspaceInput, body: input, response: workspaceResponse }),
    onSuccess: ({ workspace: saved }) => {
      queryClient.setQueryData(keys.workspaceInfo(workspace.id), { ...workspace, ...saved, role: saved.role ?? workspace.role });
      void queryClient.invalidateQueries({ queryKey: keys.me });
      form.reset({ name: saved.name });
      toast.success(t('saved'));
      // Server-rendered parts (the switcher's first paint, titles) pick up the new name too.
      router.refresh();
    },
    onError: (err) => {
      if (isApiError(err) && setServerErrors(form, err.fields)) return;
      setSummary(errorText(err));
    },
  });

  function submit(values: RenameValues) {
    setSummary(null);
    rename.mutate(values);
  }

  return (
    <Form {...form} messages={{ name: t('nameRequired') }}>
      <form method="post" onSubmit={form.handleSubmit(submit)} noValidate>
        <FormFieldset>
          {summary ? <Alert>{summary}</Alert> : null}
          <FormField
            control={form.control}
            name="name"
            render={({ field }) => (
              <FormItem className="max-w-md">
                <FormLabel>{t('name')}</FormLabel>
                <FormControl>
                  <Input required maxLength={80} readOnly={!isAdmin} {...field} />
                </FormControl>
                <FormMessage />
              </FormItem>
            )}
          />
          {isAdmin ? (
            <div className="flex flex-wrap items-center gap-2">
              <Button type="submit" disabled={rename.isPending || name.trim() === workspace.name}>
                {rename.isPending ? t('saving') : t('save')}
              </Button>
            </div>
          ) : null}
        </FormFieldset>
      </form>
    </Form>
  );
}
