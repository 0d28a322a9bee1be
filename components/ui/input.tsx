import type { ComponentProps } from 'react';
import { cn } from '@/lib/utils';

/** Shared look of text inputs, textareas and native selects. */
export const inputClassName = cn(
  'w-full min-w-0 rounded-sm border border-input bg-card px-2.5 text-foreground transition-[border-color,box-shadow]',
  'placeholder:text-faint-foreground hover:border-faint-foreground',
  'focus-visible:border-ring focus-visible:outline-none focus-visible:ring-3 focus-visible:ring-ring/25',
  'disabled:cursor-not-allowed disabled:opacity-55',
  '[&[readonly]]:bg-subtle [&[readonly]]:text-muted-foreground [&[readonly]:hover]:border-input',
  'aria-invalid:border-destructive aria-invalid:focus-visible:ring-destructive/20',
);

export function Input({ className, type, ...props }: ComponentProps<'input'>) {
  return <input type={type} data-slot="input" className={cn(inputClassName, 'h-[34px]', className)} {...props} />;
}
