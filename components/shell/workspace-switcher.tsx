'use client';

import { ChevronDown, Plus } from 'lucide-react';
import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { useMe } from '@/components/api/queries';
import { useWorkspace } from '@/components/providers/workspace-provider';
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuGroup,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from '@/components/ui/dropdown-menu';
import { cn } from '@/lib/utils';
import type { WorkspaceSummary } from '@/server/contract/workspaces';

/** The workspace's first letter on an accent square. */
function WorkspaceMark({ name, small = false }: { name: string; small?: boolean }) {
  return (
    <span
      aria-hidden="true"
      className={cn(
        'inline-flex shrink-0 items-center justify-center bg-primary font-bold text-primary-foreground',
        small ? 'size-4.5 rounded-[5px] text-[10px]' : 'size-5.5 rounded-sm text-xs',
      )}
    >
      {Array.from(name)[0]?.toUpperCase() ?? '?'}
    </span>
  );
}

export function WorkspaceSwitcher({ initialWorkspaces }: { initialWorkspaces: WorkspaceSummary[] }) {
  const t = useTranslations('shell');
  const { workspace } = useWorkspace();
  const me = useMe();
  const workspaces = me.data?.workspaces ?? initialWorkspaces;

  return (
    <DropdownMenu>
      <DropdownMenuTrigger asChild>
        <button
          type="button"
          className="flex h-9 min-w-0 flex-1 cursor-pointer items-center gap-2 rounded-sm px-2 text-left font-semibold hover:bg-accent focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring data-[state=open]:bg-accent"
          aria-label={t('switchWorkspace', { name: workspace.name })}
        >
          <WorkspaceMark name={workspace.name} />
          <span className="flex-1 truncate">{workspace.name}</span>
          <ChevronDown aria-hidden="true" className="size-3.5 shrink-0 text-faint-foreground" />
        </button>
      </DropdownMenuTrigger>
      <DropdownMenuContent align="start" className="w-(--radix-dropdown-menu-trigger-width) min-w-52">
        <DropdownMenuLabel>{t('workspaces')}</DropdownMenuLabel>
        <DropdownMenuGroup className="max-h-65 overflow-y-auto">
          {workspaces.map((w) => (
            <DropdownMenuItem key={w.id} asChild>
              <Link href={`/w/${w.slug}/chat`} aria-current={w.id === workspace.id ? 'true' : undefined} className="aria-[current=true]:font-semibold">
                <WorkspaceMark name={w.name} small />
                <span className="truncate">{w.name}</span>
              </Link>
            </DropdownMenuItem>
          ))}
        </DropdownMenuGroup>
        <DropdownMenuSeparator />
        <DropdownMenuItem asChild>
          <Link href="/workspaces/new">
            <Plus aria-hidden="true" className="size-4 text-muted-foreground" />
            {t('createWorkspace')}
          </Link>
        </DropdownMenuItem>
      </DropdownMenuContent>
    </DropdownMenu>
  );
}
