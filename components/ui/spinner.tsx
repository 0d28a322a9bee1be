import type { ComponentProps } from 'react';
import { cn } from '@/lib/utils';

/**
 * A decorative spinning ring. It keeps the `spinner` class: end-to-end tests wait for every
 * `.spinner` to be gone before they look at a page.
 */
export function Spinner({ className, ...props }: ComponentProps<'span'>) {
  return (
    <span
      data-slot="spinner"
      aria-hidden="true"
      className={cn('spinner inline-block size-3.5 shrink-0 animate-spin rounded-full border-2 border-input border-t-primary motion-reduce:animate-none', className)}
      {...props}
    />
  );
}
