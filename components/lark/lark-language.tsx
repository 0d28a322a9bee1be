'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import { useState } from 'react';
import { toast } from 'sonner';
import { api } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths, useWorkspaceSettings } from '@/components/api/queries';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { Card, CardDescription, CardHeader, CardTitle } from '@/components/ui/card';
import { SelectField } from '@/components/ui/field';
import { useErrorText } from '@/components/ui/use-error-text';
import { localeNames, locales } from '@/i18n/locales';
import { larkLocaleSettings, updateWorkspaceInput, workspaceResponse, type LarkLocaleSetting } from '@/server/contract/workspaces';

const isLarkLocaleSetting = (value: string): value is LarkLocaleSetting => (larkLocaleSettings as readonly string[]).includes(value);

/** Settings → Integrations: the language every bot of the workspace speaks in Lark (owners and admins change it). */
export function LarkLanguageSetting() {
  const t = useTranslations('lark.language');
  const tLanguage = useTranslations('language');
  const errorText = useErrorText();
  const queryClient = useQueryClient();
  const { workspace, isAdmin } = useWorkspace();
  const settings = useWorkspaceSettings(workspace.id);
  const [error, setError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (larkLocale: LarkLocaleSetting) =>
      api(paths.workspace(workspace.id), { method: 'PATCH', request: updateWorkspaceInput, body: { lark_locale: larkLocale }, response: workspaceResponse }),
    onSuccess: ({ workspace: saved }) => {
      queryClient.setQueryData(keys.workspaceSettings(workspace.id), saved);
      toast.success(t('saved'));
    },
    onError: (err) => setError(errorText(err)),
  });
  const current = save.isPending ? save.variables : settings.data?.lark_locale;

  return (
    <Card role="region" aria-labelledby="lark-language-title" data-section="lark-language">
      <CardHeader>
        <CardTitle id="lark-language-title">{t('title')}</CardTitle>
        {isAdmin ? null : <CardDescription>{t('readOnly')}</CardDescription>}
      </CardHeader>
      {settings.error ? <Alert>{errorText(settings.error)}</Alert> : null}
      {error ? <Alert>{error}</Alert> : null}
      <div className="max-w-md">
        <SelectField
          label={tLanguage('label')}
          hint={t('hint')}
          value={current ?? ''}
          disabled={!isAdmin || !settings.data || save.isPending}
          onChange={(event) => {
            const next = event.target.value;
            if (!isLarkLocaleSetting(next) || next === settings.data?.lark_locale) return;
            setError(null);
            save.mutate(next);
          }}
        >
          {settings.data ? null : <option value="" />}
          <option value="auto">{t('auto')}</option>
          {locales.map((l) => (
            <option key={l} value={l} lang={l}>
              {localeNames[l]}
            </option>
          ))}
        </SelectField>
      </div>
    </Card>
  );
}
