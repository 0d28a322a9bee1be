import { cva, type VariantProps } from 'class-variance-authority';
import type { ComponentProps } from 'react';
import { cn } from '@/lib/utils';

export const alertVariants = cva(
  'relative w-full rounded-sm border px-3 py-2.5 text-[13px] has-[>svg]:grid has-[>svg]:grid-cols-[16px_1fr] has-[>svg]:items-start has-[>svg]:gap-x-2.5 has-[>svg]:gap-y-0.5 [&>svg]:size-4 [&>svg]:translate-y-0.5 [&>svg]:text-current',
  {
    variants: {
      variant: {
        default: 'border-border bg-card text-card-foreground',
        destructive: 'border-destructive/25 bg-destructive-soft text-destructive',
        warning: 'border-transparent bg-warning-soft text-warning',
        success: 'border-transparent bg-success-soft text-success',
        info: 'border-transparent bg-info-soft text-info',
      },
    },
    defaultVariants: { variant: 'destructive' },
  },
);

type Variant = NonNullable<VariantProps<typeof alertVariants>['variant']>;
/** The older name for a variant; `error` is `destructive`. */
type Tone = 'error' | 'info' | 'warning' | 'success';

const toneVariant: Record<Tone, Variant> = { error: 'destructive', info: 'info', warning: 'warning', success: 'success' };

type AlertProps = ComponentProps<'div'> & { variant?: Variant; tone?: Tone };

/**
 * A message band. Errors (the default) are announced to screen readers as they appear (role
 * "alert"); other variants are polite status messages.
 */
export function Alert({ className, variant, tone, role, ...props }: AlertProps) {
  const v: Variant = variant ?? (tone ? toneVariant[tone] : 'destructive');
  return (
    <div
      data-slot="alert"
      role={role ?? (v === 'destructive' ? 'alert' : 'status')}
      className={cn(alertVariants({ variant: v }), className)}
      {...props}
    />
  );
}

export function AlertTitle({ className, ...props }: ComponentProps<'div'>) {
  return <div data-slot="alert-title" className={cn('font-semibold [svg~&]:col-start-2', className)} {...props} />;
}

export function AlertDescription({ className, ...props }: ComponentProps<'div'>) {
  return <div data-slot="alert-description" className={cn('[svg~&]:col-start-2 [&_p]:leading-relaxed', className)} {...props} />;
}
