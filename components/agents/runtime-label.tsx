'use client';

import { useTranslations } from 'next-intl';
import type { Agent } from '@/server/contract/agents';
import { Badge } from '@/components/ui/badge';

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
  if (agent.archived_at) return <Badge variant="secondary">{t('statusArchived')}</Badge>;
  if (!agent.runtime) return <Badge variant="warning">{t('statusOffline')}</Badge>;
  return <Badge variant="success">{t('statusActive')}</Badge>;
}
