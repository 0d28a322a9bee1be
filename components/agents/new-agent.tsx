'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { api } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths } from '@/components/api/queries';
import { agentResponse, createAgentInput } from '@/server/contract/agents';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { fieldErrors, useErrorText } from '@/components/ui/use-error-text';
import { AgentForm, type AgentFormValues } from './agent-form';

export function NewAgent() {
  const t = useTranslations('agents');
  const errorText = useErrorText();
  const router = useRouter();
  const queryClient = useQueryClient();
  const { workspace, base, isAdmin } = useWorkspace();
  const create = useMutation({
    mutationFn: (values: AgentFormValues) => api(paths.agents(workspace.id), { method: 'POST', request: createAgentInput, body: values, response: agentResponse }),
    onSuccess: ({ agent }) => {
      queryClient.setQueryData(keys.agent(workspace.id, agent.id), agent);
      void queryClient.invalidateQueries({ queryKey: keys.agents(workspace.id) });
      router.push(`${base}/agents/${agent.id}`);
    },
  });

  return (
    <div className="page page-narrow">
      <nav className="breadcrumbs" aria-label={t('breadcrumbs')}>
        <Link href={`${base}/agents`}>{t('title')}</Link>
        <span aria-hidden="true">/</span>
        <span>{t('newAgent')}</span>
      </nav>
      <header className="page-header">
        <div>
          <h1 className="page-title">{t('newAgentTitle')}</h1>
          <p className="page-subtitle">{t('newAgentSubtitle')}</p>
        </div>
      </header>
      <div className="card">
        <AgentForm
          canConfigureRuntime={isAdmin}
          pending={create.isPending}
          error={create.error ? errorText(create.error) : null}
          fields={fieldErrors(create.error)}
          submitLabel={t('create')}
          pendingLabel={t('creating')}
          onSubmit={(values) => create.mutate(values)}
          onCancel={() => router.push(`${base}/agents`)}
        />
      </div>
    </div>
  );
}
