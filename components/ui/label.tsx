'use client';

import { Label as LabelPrimitive } from 'radix-ui';
import type { ComponentProps } from 'react';
import { cn } from '@/lib/utils';

export function Label({ className, ...props }: ComponentProps<typeof LabelPrimitive.Root>) {
  return (
    <LabelPrimitive.Root
      data-slot="label"
      className={cn(
        'text-[13px] leading-snug font-medium text-foreground select-none peer-disabled:cursor-not-allowed group-data-[disabled=true]:opacity-55',
        className,
      )}
      {...props}
    />
  );
}
