'use client';

import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { useId, useState } from 'react';
import { useAgents } from '@/components/api/queries';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { Avatar } from '@/components/ui/avatar';
import { EmptyState } from '@/components/ui/empty-state';
import { Loading } from '@/components/ui/loading';
import { useErrorText } from '@/components/ui/use-error-text';
import { AgentStatusBadge, useRuntimeLabel } from './runtime-label';

export function AgentsList() {
  const t = useTranslations('agents');
  const errorText = useErrorText();
  const runtimeLabel = useRuntimeLabel();
  const { workspace, base } = useWorkspace();
  const [showArchived, setShowArchived] = useState(false);
  const agents = useAgents(workspace.id, showArchived);
  const toggleId = useId();

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1 className="page-title">{t('title')}</h1>
          <p className="page-subtitle">{t('subtitle')}</p>
        </div>
        <Link href={`${base}/agents/new`} className="btn btn-primary">
          {t('newAgent')}
        </Link>
      </header>
      <div className="toolbar">
        <label htmlFor={toggleId} className="checkbox">
          <input id={toggleId} type="checkbox" checked={showArchived} onChange={(e) => setShowArchived(e.target.checked)} />
          <span>{t('showArchived')}</span>
        </label>
      </div>
      {agents.isPending ? <Loading /> : null}
      {agents.error ? <Alert>{errorText(agents.error)}</Alert> : null}
      {agents.data && agents.data.length === 0 ? (
        <EmptyState
          title={t('emptyTitle')}
          body={t('emptyBody')}
          action={
            <Link href={`${base}/agents/new`} className="btn btn-primary">
              {t('newAgent')}
            </Link>
          }
        />
      ) : null}
      {agents.data && agents.data.length > 0 ? (
        <ul className="list" aria-label={t('title')}>
          {agents.data.map((agent) => (
            <li key={agent.id} className={agent.archived_at ? 'list-row-muted' : undefined}>
              <Link href={`${base}/agents/${agent.id}`} className="list-row">
                <Avatar name={agent.name} color={agent.avatar_color} />
                <span className="list-main">
                  <span className="list-title truncate">{agent.name}</span>
                  <span className="list-meta truncate">
                    {runtimeLabel(agent.runtime)} · {t('ownedBy', { name: agent.owner.name })}
                  </span>
                </span>
                <AgentStatusBadge agent={agent} />
              </Link>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
