'use client';

import { useTranslations } from 'next-intl';
import { cn } from '@/lib/utils';
import { Spinner } from './spinner';

export function Loading({ label, className }: { label?: string; className?: string }) {
  const t = useTranslations('common');
  return (
    <div className={cn('flex items-center gap-2 p-4 text-muted-foreground', className)} role="status" aria-live="polite">
      <Spinner />
      <span>{label ?? t('loading')}</span>
    </div>
  );
}
