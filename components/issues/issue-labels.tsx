'use client';

import { Bot } from 'lucide-react';
import { useTranslations } from 'next-intl';
import { Avatar } from '@/components/ui/avatar';
import { Badge } from '@/components/ui/badge';
import { issueStatuses, type Issue, type IssueStatus as Status } from '@/server/contract/issues';

const statusVariants: Record<Status, 'secondary' | 'outline' | 'warning' | 'success'> = {
  backlog: 'secondary',
  todo: 'outline',
  in_progress: 'warning',
  done: 'success',
  canceled: 'secondary',
};

export function useStatusLabel() {
  const t = useTranslations('issues.status');
  return (status: string) => (t.has(status as Status) ? t(status as Status) : status);
}

/** One `<option>` per status, in workflow order, for a native status select. */
export function StatusOptions() {
  const label = useStatusLabel();
  return issueStatuses.map((s) => (
    <option key={s} value={s}>
      {label(s)}
    </option>
  ));
}

export function IssueStatus({ status }: { status: Status }) {
  const label = useStatusLabel();
  return (
    <Badge variant={statusVariants[status] ?? 'secondary'} className={status === 'canceled' ? 'line-through' : undefined}>
      {label(status)}
    </Badge>
  );
}

export function useOriginLabel() {
  const t = useTranslations('issues.origin');
  return (origin: Issue['origin_type']) => (origin === 'lark_chat' ? t('lark_chat') : origin === 'web' ? t('web') : origin);
}

/** Who an issue is assigned to, or "Unassigned". */
export function IssueAssignee({ assignee }: { assignee: Issue['assignee'] }) {
  const t = useTranslations('issues.assignee');
  if (!assignee) return <span className="text-muted-foreground">{t('none')}</span>;
  const name = assignee.type === 'agent' && assignee.archived ? t('archived', { name: assignee.name }) : assignee.name;
  return (
    <span className="inline-flex min-w-0 items-center gap-1.5">
      <Avatar name={assignee.name} color={assignee.type === 'agent' ? assignee.avatar_color : undefined} size="sm" />
      <span className="truncate">{name}</span>
      {assignee.type === 'agent' ? <Bot role="img" aria-label={t('agent')} className="size-3.5 shrink-0 text-muted-foreground" /> : null}
    </span>
  );
}
