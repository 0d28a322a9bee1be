type AvatarProps = { name: string; color?: string; size?: 'sm' | 'md' | 'lg' };

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return '?';
  const first = Array.from(parts[0] ?? '')[0] ?? '';
  const second = parts.length > 1 ? (Array.from(parts[parts.length - 1] ?? '')[0] ?? '') : '';
  return (first + second).toUpperCase();
}

/** A coloured disc with initials; purely decorative, the name is always shown beside it. */
export function Avatar({ name, color, size = 'md' }: AvatarProps) {
  return (
    <span
      className={`avatar avatar-${size}${color ? '' : ' avatar-neutral'}`}
      style={color ? { backgroundColor: color } : undefined}
      aria-hidden="true"
    >
      {initials(name)}
    </span>
  );
}
