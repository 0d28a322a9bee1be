'use client';

import { useTranslations } from 'next-intl';
import { useAgents, useMembers } from '@/components/api/queries';
import type { Issue } from '@/server/contract/issues';

/**
 * The `<option>`s for picking an assignee: the workspace's members, then its live agents. An
 * archived agent that still holds the issue stays listed (disabled) so the select can show it.
 */
export function AssigneeOptions({ wsId, current }: { wsId: string; current?: Issue['assignee'] }) {
  const t = useTranslations('issues');
  const members = useMembers(wsId);
  const agents = useAgents(wsId);
  const keptArchived = current?.type === 'agent' && !agents.data?.some((a) => a.id === current.id) ? current : null;
  return (
    <>
      {members.data?.length ? (
        <optgroup label={t('filters.members')}>
          {members.data.map((m) => (
            <option key={m.user_id} value={`member:${m.user_id}`}>
              {m.name}
            </option>
          ))}
        </optgroup>
      ) : null}
      {agents.data?.length || keptArchived ? (
        <optgroup label={t('filters.agents')}>
          {agents.data?.map((a) => (
            <option key={a.id} value={`agent:${a.id}`}>
              {a.name}
            </option>
          ))}
          {keptArchived ? (
            <option value={`agent:${keptArchived.id}`} disabled>
              {t('assignee.archived', { name: keptArchived.name })}
            </option>
          ) : null}
        </optgroup>
      ) : null}
    </>
  );
}
