'use client';

import { useTranslations } from 'next-intl';
import type { Issue } from '@/server/contract/issues';

export function IssueStatus({ status }: { status: string }) {
  const t = useTranslations('issues.status');
  const key = status as 'todo';
  return <span className={`status status-${status.replace(/[^a-z_]/g, '')}`}>{t.has(key) ? t(key) : status}</span>;
}

export function useOriginLabel() {
  const t = useTranslations('issues.origin');
  return (origin: Issue['origin_type']) => (origin === 'lark_chat' ? t('lark_chat') : origin === 'web' ? t('web') : origin);
}
