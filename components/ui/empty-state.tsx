import type { ReactNode } from 'react';
import { cn } from '@/lib/utils';

export function EmptyState({ title, body, action, className }: { title: ReactNode; body?: ReactNode; action?: ReactNode; className?: string }) {
  return (
    <div className={cn('flex flex-col items-center gap-1.5 rounded-lg border border-dashed border-input px-4 py-10 text-center', className)}>
      <p className="font-semibold">{title}</p>
      {body ? <p className="max-w-105 text-muted-foreground">{body}</p> : null}
      {action ? <div className="mt-2.5">{action}</div> : null}
    </div>
  );
}
