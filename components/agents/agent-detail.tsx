'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { useState, type ComponentProps, type ReactNode } from 'react';
import { toast } from 'sonner';
import { api } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths, useAgent } from '@/components/api/queries';
import { agentResponse, updateAgentInput, type Agent } from '@/server/contract/agents';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { Avatar } from '@/components/ui/avatar';
import { Button } from '@/components/ui/button';
import { Card, CardTitle } from '@/components/ui/card';
import { Loading } from '@/components/ui/loading';
import { useFormatDate } from '@/components/ui/use-format';
import { fieldErrors, useErrorText } from '@/components/ui/use-error-text';
import { AgentLark } from '@/components/lark/agent-lark';
import { cn } from '@/lib/utils';
import { AgentForm, type AgentFormValues } from './agent-form';
import { AgentsPage, Breadcrumbs, PageTitle } from './page-layout';
import { AgentStatusBadge, useRuntimeLabel } from './runtime-label';

export function AgentDetail({ agentId }: { agentId: string }) {
  const t = useTranslations('agents');
  const errorText = useErrorText();
  const { workspace, base } = useWorkspace();
  const agent = useAgent(workspace.id, agentId);

  if (agent.isPending) return <Loading />;
  if (agent.error) {
    return (
      <AgentsPage>
        <Alert>{errorText(agent.error)}</Alert>
        <p>
          <Link href={`${base}/agents`}>{t('backToAgents')}</Link>
        </p>
      </AgentsPage>
    );
  }
  const a = agent.data;
  return (
    <AgentsPage narrow>
      <Breadcrumbs label={t('breadcrumbs')} home={`${base}/agents`} homeLabel={t('title')} current={a.name} />
      <header className="flex flex-wrap items-start justify-between gap-4">
        <div className="flex min-w-0 items-center gap-3.5">
          <Avatar name={a.name} color={a.avatar_color} size="lg" />
          <div className="min-w-0">
            <PageTitle>{a.name}</PageTitle>
            <p className="mt-0.5 flex flex-wrap items-center gap-x-2 gap-y-1 text-muted-foreground">
              <AgentStatusBadge agent={a} />
              <span>{t('ownedBy', { name: a.owner.name })}</span>
            </p>
          </div>
        </div>
        {a.archived_at ? null : (
          <Button variant="secondary" asChild>
            <Link href={`${base}/chat?agent=${a.id}`}>{t('chatWith')}</Link>
          </Button>
        )}
      </header>

      {a.can_edit ? <EditAgent agent={a} /> : <ReadOnlyAgent agent={a} />}

      <SectionCard id="agent-integrations-title" title={t('integrationsTitle')} data-section="integrations">
        <AgentLark agent={a} />
      </SectionCard>

      {a.can_edit ? <ArchiveSection agent={a} /> : null}
    </AgentsPage>
  );
}

/** A card that is a named region: its h2 labels it. */
function SectionCard({ id, title, className, children, ...props }: ComponentProps<'div'> & { id: string; title: string }) {
  return (
    <Card role="region" aria-labelledby={id} className={cn('max-[760px]:p-4', className)} {...props}>
      <CardTitle id={id}>{title}</CardTitle>
      {children}
    </Card>
  );
}

/** Label and value pairs, labels in a column of their own. */
function Details({ children }: { children: ReactNode }) {
  return <dl className="grid grid-cols-[max-content_minmax(0,1fr)] gap-x-5 gap-y-2 [&_dd]:[overflow-wrap:anywhere] [&_dt]:text-muted-foreground">{children}</dl>;
}

function ReadOnlyAgent({ agent }: { agent: Agent }) {
  const t = useTranslations('agents');
  const runtimeLabel = useRuntimeLabel();
  const format = useFormatDate();
  const openai = agent.runtime?.kind === 'openai' ? agent.runtime : null;
  return (
    <SectionCard id="agent-settings-title" title={t('settingsTitle')}>
      <p className="text-muted-foreground">{t('readOnly')}</p>
      <Details>
        <dt>{t('form.runtime')}</dt>
        <dd>{runtimeLabel(agent.runtime)}</dd>
        {openai ? (
          <>
            <dt>{t('form.baseUrl')}</dt>
            <dd className="font-mono text-[13px]">{openai.base_url}</dd>
            <dt>{t('form.model')}</dt>
            <dd className="font-mono text-[13px]">{openai.model}</dd>
            <dt>{t('form.stream')}</dt>
            <dd>{openai.stream ? t('yes') : t('no')}</dd>
          </>
        ) : null}
        <dt>{t('owner')}</dt>
        <dd>{agent.owner.name}</dd>
        <dt>{t('created')}</dt>
        <dd>{format.dateTime(agent.created_at)}</dd>
      </Details>
    </SectionCard>
  );
}

function EditAgent({ agent }: { agent: Agent }) {
  const t = useTranslations('agents');
  const errorText = useErrorText();
  const queryClient = useQueryClient();
  const { workspace } = useWorkspace();
  const [formKey, setFormKey] = useState(0);
  const update = useMutation({
    mutationFn: (values: AgentFormValues) =>
      api(paths.agent(workspace.id, agent.id), { method: 'PATCH', request: updateAgentInput, body: values, response: agentResponse }),
    onSuccess: ({ agent: saved }) => {
      queryClient.setQueryData(keys.agent(workspace.id, agent.id), saved);
      void queryClient.invalidateQueries({ queryKey: keys.agents(workspace.id) });
      toast.success(t('saved'));
      // Remount the form so it shows what was saved (and clears the write-only key field).
      setFormKey((k) => k + 1);
    },
  });
  return (
    <SectionCard id="agent-settings-title" title={t('settingsTitle')}>
      <AgentForm
        key={formKey}
        agent={agent}
        canConfigureRuntime={agent.can_configure_runtime}
        pending={update.isPending}
        error={update.error ? errorText(update.error) : null}
        fields={fieldErrors(update.error)}
        submitLabel={t('save')}
        pendingLabel={t('saving')}
        onSubmit={(values) => update.mutate(values)}
      />
    </SectionCard>
  );
}

function ArchiveSection({ agent }: { agent: Agent }) {
  const t = useTranslations('agents');
  const errorText = useErrorText();
  const queryClient = useQueryClient();
  const { workspace } = useWorkspace();
  const [confirming, setConfirming] = useState(false);
  const archived = Boolean(agent.archived_at);
  const toggle = useMutation({
    mutationFn: () =>
      api(`${paths.agent(workspace.id, agent.id)}/${archived ? 'unarchive' : 'archive'}`, { method: 'POST', response: agentResponse }),
    onSuccess: ({ agent: saved }) => {
      queryClient.setQueryData(keys.agent(workspace.id, agent.id), saved);
      void queryClient.invalidateQueries({ queryKey: keys.agents(workspace.id) });
      setConfirming(false);
    },
  });

  return (
    <SectionCard
      id="agent-archive-title"
      title={archived ? t('unarchiveTitle') : t('archiveTitle')}
      className="border-destructive/30"
    >
      <p className="text-muted-foreground">{archived ? t('unarchiveBody') : t('archiveBody')}</p>
      {toggle.error ? <Alert>{errorText(toggle.error)}</Alert> : null}
      {archived ? (
        <div className="flex flex-wrap items-center gap-2">
          <Button type="button" variant="secondary" disabled={toggle.isPending} onClick={() => toggle.mutate()}>
            {t('unarchive')}
          </Button>
        </div>
      ) : confirming ? (
        <div className="flex flex-wrap items-center gap-2" role="group" aria-label={t('archiveConfirm', { name: agent.name })}>
          <span className="mr-1 font-medium">{t('archiveConfirm', { name: agent.name })}</span>
          <Button type="button" variant="destructive" disabled={toggle.isPending} onClick={() => toggle.mutate()}>
            {t('archiveConfirmButton')}
          </Button>
          <Button type="button" variant="ghost" disabled={toggle.isPending} onClick={() => setConfirming(false)}>
            {t('form.cancel')}
          </Button>
        </div>
      ) : (
        <div className="flex flex-wrap items-center gap-2">
          <Button type="button" variant="destructive-outline" onClick={() => setConfirming(true)}>
            {t('archive')}
          </Button>
        </div>
      )}
    </SectionCard>
  );
}
