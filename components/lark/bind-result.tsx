import type { ComponentProps } from 'react';
import { cn } from '@/lib/utils';

/** One state of the binding page (signed out, confirm, done, refused): a column inside the auth card. */
export function BindResult({ className, ...props }: ComponentProps<'div'>) {
  return <div className={cn('flex flex-col gap-2.5', className)} {...props} />;
}

export function BindResultTitle({ className, ...props }: ComponentProps<'h2'>) {
  return <h2 className={cn('text-[15px] font-semibold', className)} {...props} />;
}
