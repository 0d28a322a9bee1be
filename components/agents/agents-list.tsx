'use client';

import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { useId, useState } from 'react';
import { useAgents } from '@/components/api/queries';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { Avatar } from '@/components/ui/avatar';
import { Button } from '@/components/ui/button';
import { EmptyState } from '@/components/ui/empty-state';
import { Loading } from '@/components/ui/loading';
import { useErrorText } from '@/components/ui/use-error-text';
import { cn } from '@/lib/utils';
import { AgentsPage, PageSubtitle, PageTitle } from './page-layout';
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
    <AgentsPage>
      <header className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <PageTitle>{t('title')}</PageTitle>
          <PageSubtitle>{t('subtitle')}</PageSubtitle>
        </div>
        <Button asChild>
          <Link href={`${base}/agents/new`}>{t('newAgent')}</Link>
        </Button>
      </header>
      <div className="-mt-1 flex items-center gap-3">
        <label htmlFor={toggleId} className="inline-flex cursor-pointer items-center gap-2 select-none">
          <input
            id={toggleId}
            type="checkbox"
            className="m-0 size-[15px] cursor-pointer accent-primary"
            checked={showArchived}
            onChange={(e) => setShowArchived(e.target.checked)}
          />
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
            <Button asChild>
              <Link href={`${base}/agents/new`}>{t('newAgent')}</Link>
            </Button>
          }
        />
      ) : null}
      {agents.data && agents.data.length > 0 ? (
        <ul className="divide-y overflow-hidden rounded-lg border bg-card" aria-label={t('title')}>
          {agents.data.map((agent) => {
            const archived = Boolean(agent.archived_at);
            return (
              <li key={agent.id}>
                <Link
                  href={`${base}/agents/${agent.id}`}
                  className="flex items-center gap-3 px-4 py-3 text-foreground hover:bg-subtle hover:no-underline focus-visible:-outline-offset-2"
                >
                  {/* Archived rows fade their avatar only: faded text would be hard to read. */}
                  <Avatar name={agent.name} color={agent.avatar_color} className={cn(archived && 'opacity-50 grayscale')} />
                  <span className="flex min-w-0 flex-1 flex-col">
                    <span className={cn('truncate font-medium', archived && 'text-muted-foreground')} title={agent.name}>
                      {agent.name}
                    </span>
                    <span className="truncate text-[12.5px] text-muted-foreground">
                      {runtimeLabel(agent.runtime)} · {t('ownedBy', { name: agent.owner.name })}
                    </span>
                  </span>
                  <AgentStatusBadge agent={agent} />
                </Link>
              </li>
            );
          })}
        </ul>
      ) : null}
    </AgentsPage>
  );
}
