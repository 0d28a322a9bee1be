'use client';

import type { ReactNode } from 'react';
import { cn } from '@/lib/utils';
import { useHydrated } from './use-hydrated';

/**
 * Keeps server-rendered controls disabled until hydration: text typed before React takes over
 * would otherwise be wiped by the first re-render of a controlled input. Lays its children out in
 * a column unless given another layout.
 */
export function FormFieldset({ children, className }: { children: ReactNode; className?: string }) {
  const hydrated = useHydrated();
  return (
    <fieldset className={cn('m-0 flex min-w-0 flex-col gap-3.5 border-0 p-0', className)} disabled={!hydrated}>
      {children}
    </fieldset>
  );
}
