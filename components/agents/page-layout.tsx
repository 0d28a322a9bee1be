import Link from 'next/link';
import type { ReactNode } from 'react';
import { cn } from '@/lib/utils';

/** The centred column every agents page sits in; narrow for forms and single agents. */
export function AgentsPage({ narrow = false, children }: { narrow?: boolean; children: ReactNode }) {
  return (
    <div
      className={cn(
        'mx-auto flex w-full flex-col gap-[18px] px-8 pt-7 pb-12 max-[760px]:px-4 max-[760px]:pt-[18px] max-[760px]:pb-10',
        narrow ? 'max-w-[760px]' : 'max-w-[1040px]',
      )}
    >
      {children}
    </div>
  );
}

export function PageTitle({ className, children }: { className?: string; children: ReactNode }) {
  return <h1 className={cn('text-xl font-semibold tracking-[-0.01em] [overflow-wrap:anywhere]', className)}>{children}</h1>;
}

export function PageSubtitle({ children }: { children: ReactNode }) {
  return <p className="mt-0.5 text-muted-foreground">{children}</p>;
}

/** "Agents / current page": the first part links back to the list. */
export function Breadcrumbs({ label, home, homeLabel, current }: { label: string; home: string; homeLabel: string; current: string }) {
  return (
    <nav aria-label={label} className="-mb-1.5 flex min-w-0 items-center gap-1.5 text-[13px] text-muted-foreground">
      <Link href={home} className="shrink-0 text-muted-foreground hover:text-foreground">
        {homeLabel}
      </Link>
      <span aria-hidden="true">/</span>
      <span className="min-w-0 truncate" aria-current="page">
        {current}
      </span>
    </nav>
  );
}
