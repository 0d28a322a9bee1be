import { cn } from '@/lib/utils';

export type NavIconName = 'chat' | 'agents' | 'issues' | 'settings' | 'guide' | 'menu' | 'close';

const paths: Record<NavIconName, string> = {
  chat: 'M3 4.5A1.5 1.5 0 0 1 4.5 3h11A1.5 1.5 0 0 1 17 4.5v8a1.5 1.5 0 0 1-1.5 1.5H8l-4 3v-3h.5A1.5 1.5 0 0 1 3 12.5z',
  agents: 'M10 3a3 3 0 1 1 0 6 3 3 0 0 1 0-6zM4 17c0-3.3 2.7-5.5 6-5.5s6 2.2 6 5.5',
  issues: 'M10 3a7 7 0 1 1 0 14 7 7 0 0 1 0-14zM10 7.5a2.5 2.5 0 1 1 0 5 2.5 2.5 0 0 1 0-5z',
  settings: 'M3 6h9M15 6h2M3 14h3M9 14h8M12.5 4v4M7.5 12v4',
  guide: 'M4 3.5h8.5L16 7v9.5H4zM12.5 3.5V7H16M7 10.5h6M7 13.5h4',
  menu: 'M3 5.5h14M3 10h14M3 14.5h14',
  close: 'M5 5l10 10M15 5L5 15',
};

export function NavIcon({ name, className }: { name: NavIconName; className?: string }) {
  return (
    <svg className={cn('shrink-0', className)} viewBox="0 0 20 20" width="16" height="16" aria-hidden="true">
      <path d={paths[name]} fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}
