'use client';

import { useTranslations } from 'next-intl';
import type { Agent } from '@/server/contract/agents';

export function useRuntimeLabel() {
  const t = useTranslations('agents');
  return (runtime: Agent['runtime']): string => {
    if (!runtime) return t('runtimeNone');
    if (runtime.kind === 'echo') return t('runtimeEcho');
    return runtime.model ? t('runtimeOpenaiModel', { model: runtime.model }) : t('runtimeOpenai');
  };
}

export function AgentStatusBadge({ agent }: { agent: Agent }) {
  const t = useTranslations('agents');
  if (agent.archived_at) return <span className="badge">{t('statusArchived')}</span>;
  if (!agent.runtime) return <span className="badge badge-warning">{t('statusOffline')}</span>;
  return <span className="badge badge-success">{t('statusActive')}</span>;
}
