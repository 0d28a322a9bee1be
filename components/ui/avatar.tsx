import { cn } from '@/lib/utils';

type AvatarProps = { name: string; color?: string; size?: 'sm' | 'md' | 'lg'; className?: string };

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return '?';
  const first = Array.from(parts[0] ?? '')[0] ?? '';
  const second = parts.length > 1 ? (Array.from(parts[parts.length - 1] ?? '')[0] ?? '') : '';
  return (first + second).toUpperCase();
}

const sizes = { sm: 'size-6 text-[10px]', md: 'size-8 text-xs', lg: 'size-11 text-base' } as const;

/** A coloured disc with initials; purely decorative, the name is always shown beside it. */
export function Avatar({ name, color, size = 'md', className }: AvatarProps) {
  return (
    <span
      data-slot="avatar"
      className={cn(
        'avatar inline-flex shrink-0 items-center justify-center rounded-full font-semibold tracking-[0.02em] select-none',
        sizes[size],
        color ? 'text-white' : 'bg-muted text-muted-foreground ring-1 ring-border ring-inset',
        className,
      )}
      style={color ? { backgroundColor: color } : undefined}
      aria-hidden="true"
    >
      {initials(name)}
    </span>
  );
}
