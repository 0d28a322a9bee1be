'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { useState } from 'react';
import { api } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths, useAgent } from '@/components/api/queries';
import { agentResponse, updateAgentInput, type Agent } from '@/server/contract/agents';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { Avatar } from '@/components/ui/avatar';
import { Loading } from '@/components/ui/loading';
import { useFormatDate } from '@/components/ui/use-format';
import { fieldErrors, useErrorText } from '@/components/ui/use-error-text';
import { AgentLark } from '@/components/lark/agent-lark';
import { AgentForm, type AgentFormValues } from './agent-form';
import { AgentStatusBadge, useRuntimeLabel } from './runtime-label';

export function AgentDetail({ agentId }: { agentId: string }) {
  const t = useTranslations('agents');
  const errorText = useErrorText();
  const { workspace, base } = useWorkspace();
  const agent = useAgent(workspace.id, agentId);

  if (agent.isPending) return <Loading />;
  if (agent.error) {
    return (
      <div className="page">
        <Alert>{errorText(agent.error)}</Alert>
        <p>
          <Link href={`${base}/agents`}>{t('backToAgents')}</Link>
        </p>
      </div>
    );
  }
  const a = agent.data;
  return (
    <div className="page page-narrow">
      <nav className="breadcrumbs" aria-label={t('breadcrumbs')}>
        <Link href={`${base}/agents`}>{t('title')}</Link>
        <span aria-hidden="true">/</span>
        <span className="truncate">{a.name}</span>
      </nav>
      <header className="page-header">
        <div className="page-header-identity">
          <Avatar name={a.name} color={a.avatar_color} size="lg" />
          <div>
            <h1 className="page-title">{a.name}</h1>
            <p className="page-subtitle">
              <AgentStatusBadge agent={a} /> {t('ownedBy', { name: a.owner.name })}
            </p>
          </div>
        </div>
        {a.archived_at ? null : (
          <Link href={`${base}/chat?agent=${a.id}`} className="btn btn-secondary">
            {t('chatWith')}
          </Link>
        )}
      </header>

      {a.can_edit ? <EditAgent agent={a} /> : <ReadOnlyAgent agent={a} />}

      <section className="card" data-section="integrations" aria-labelledby="agent-integrations-title">
        <h2 id="agent-integrations-title" className="card-title">
          {t('integrationsTitle')}
        </h2>
        <AgentLark agent={a} />
      </section>

      {a.can_edit ? <ArchiveSection agent={a} /> : null}
    </div>
  );
}

function ReadOnlyAgent({ agent }: { agent: Agent }) {
  const t = useTranslations('agents');
  const runtimeLabel = useRuntimeLabel();
  const format = useFormatDate();
  const openai = agent.runtime?.kind === 'openai' ? agent.runtime : null;
  return (
    <section className="card" aria-labelledby="agent-settings-title">
      <h2 id="agent-settings-title" className="card-title">
        {t('settingsTitle')}
      </h2>
      <p className="muted">{t('readOnly')}</p>
      <dl className="details">
        <dt>{t('form.runtime')}</dt>
        <dd>{runtimeLabel(agent.runtime)}</dd>
        {openai ? (
          <>
            <dt>{t('form.baseUrl')}</dt>
            <dd className="mono">{openai.base_url}</dd>
            <dt>{t('form.model')}</dt>
            <dd className="mono">{openai.model}</dd>
            <dt>{t('form.stream')}</dt>
            <dd>{openai.stream ? t('yes') : t('no')}</dd>
          </>
        ) : null}
        <dt>{t('owner')}</dt>
        <dd>{agent.owner.name}</dd>
        <dt>{t('created')}</dt>
        <dd>{format.dateTime(agent.created_at)}</dd>
      </dl>
    </section>
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
      // Remount the form so it shows what was saved (and clears the write-only key field).
      setFormKey((k) => k + 1);
    },
  });
  return (
    <section className="card" aria-labelledby="agent-settings-title">
      <h2 id="agent-settings-title" className="card-title">
        {t('settingsTitle')}
      </h2>
      {update.isSuccess ? <Alert tone="success">{t('saved')}</Alert> : null}
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
    </section>
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
    <section className="card card-danger" aria-labelledby="agent-archive-title">
      <h2 id="agent-archive-title" className="card-title">
        {archived ? t('unarchiveTitle') : t('archiveTitle')}
      </h2>
      <p className="muted">{archived ? t('unarchiveBody') : t('archiveBody')}</p>
      {toggle.error ? <Alert>{errorText(toggle.error)}</Alert> : null}
      {archived ? (
        <div className="form-actions">
          <button type="button" className="btn btn-secondary" disabled={toggle.isPending} onClick={() => toggle.mutate()}>
            {t('unarchive')}
          </button>
        </div>
      ) : confirming ? (
        <div className="form-actions" role="group" aria-label={t('archiveConfirm', { name: agent.name })}>
          <span className="confirm-text">{t('archiveConfirm', { name: agent.name })}</span>
          <button type="button" className="btn btn-danger" disabled={toggle.isPending} onClick={() => toggle.mutate()}>
            {t('archiveConfirmButton')}
          </button>
          <button type="button" className="btn btn-ghost" disabled={toggle.isPending} onClick={() => setConfirming(false)}>
            {t('form.cancel')}
          </button>
        </div>
      ) : (
        <div className="form-actions">
          <button type="button" className="btn btn-danger-outline" onClick={() => setConfirming(true)}>
            {t('archive')}
          </button>
        </div>
      )}
    </section>
  );
}
