'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import { useRouter } from 'next/navigation';
import { api } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths } from '@/components/api/queries';
import { agentResponse, createAgentInput } from '@/server/contract/agents';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Card } from '@/components/ui/card';
import { fieldErrors, useErrorText } from '@/components/ui/use-error-text';
import { AgentForm, type AgentFormValues } from './agent-form';
import { AgentsPage, Breadcrumbs, PageSubtitle, PageTitle } from './page-layout';

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
    <AgentsPage narrow>
      <Breadcrumbs label={t('breadcrumbs')} home={`${base}/agents`} homeLabel={t('title')} current={t('newAgent')} />
      <header className="min-w-0">
        <PageTitle>{t('newAgentTitle')}</PageTitle>
        <PageSubtitle>{t('newAgentSubtitle')}</PageSubtitle>
      </header>
      <Card className="max-[760px]:p-4">
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
      </Card>
    </AgentsPage>
  );
}
