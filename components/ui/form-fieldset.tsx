'use client';

import type { ReactNode } from 'react';
import { useHydrated } from './use-hydrated';

/**
 * Keeps server-rendered controls disabled until hydration: text typed before React takes over
 * would otherwise be wiped by the first re-render of a controlled input.
 */
export function FormFieldset({ children, className = 'stack' }: { children: ReactNode; className?: string }) {
  const hydrated = useHydrated();
  return (
    <fieldset className={`form-fieldset ${className}`} disabled={!hydrated}>
      {children}
    </fieldset>
  );
}
