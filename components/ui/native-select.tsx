import { ChevronDown } from 'lucide-react';
import type { ComponentProps } from 'react';
import { cn } from '@/lib/utils';
import { inputClassName } from './input';

type NativeSelectProps = Omit<ComponentProps<'select'>, 'size'> & { size?: 'default' | 'sm' };

/**
 * A styled <select>: the browser's own picker, for plain forms and webviews. `name`, `id` and the
 * options pass straight through, so `select[name=…]` selectors keep matching.
 */
export function NativeSelect({ className, size = 'default', ...props }: NativeSelectProps) {
  return (
    <div data-slot="native-select-wrapper" className="relative w-full min-w-0">
      <select
        data-slot="native-select"
        className={cn(
          inputClassName,
          'cursor-pointer appearance-none pr-7',
          size === 'sm' ? 'h-7 pl-2 text-[12.5px]' : 'h-[34px]',
          className,
        )}
        {...props}
      />
      <ChevronDown
        aria-hidden="true"
        className="pointer-events-none absolute top-1/2 right-2 size-3.5 -translate-y-1/2 text-faint-foreground"
      />
    </div>
  );
}
