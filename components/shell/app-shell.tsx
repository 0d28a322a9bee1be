'use client';

import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useState, type ReactNode } from 'react';
import type { WorkspaceSummary } from '@/server/contract/workspaces';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Button } from '@/components/ui/button';
import { cn } from '@/lib/utils';
import { UserMenu } from './user-menu';
import { WorkspaceSwitcher } from './workspace-switcher';
import { NavIcon, type NavIconName } from './nav-icon';

type NavItem = { href: string; label: string; icon: NavIconName };

export function AppShell({ workspaces, children }: { workspaces: WorkspaceSummary[]; children: ReactNode }) {
  const t = useTranslations('shell');
  const { base } = useWorkspace();
  const pathname = usePathname();
  const [navOpen, setNavOpen] = useState(false);
  const [navPath, setNavPath] = useState(pathname);
  if (navPath !== pathname) {
    // Following a link closes the mobile menu.
    setNavPath(pathname);
    setNavOpen(false);
  }

  const items: NavItem[] = [
    { href: `${base}/chat`, label: t('nav.chat'), icon: 'chat' },
    { href: `${base}/agents`, label: t('nav.agents'), icon: 'agents' },
    { href: `${base}/issues`, label: t('nav.issues'), icon: 'issues' },
    { href: `${base}/settings`, label: t('nav.settings'), icon: 'settings' },
    { href: `${base}/guide`, label: t('nav.guide'), icon: 'guide' },
  ];

  return (
    <div className="grid h-dvh grid-cols-[232px_minmax(0,1fr)] max-md:grid-cols-[minmax(0,1fr)] max-md:grid-rows-[auto_minmax(0,1fr)]">
      <a
        href="#main"
        className="absolute -top-10 left-2 z-100 rounded-md border bg-card px-2.5 py-1.5 text-foreground no-underline focus:top-2"
      >
        {t('skipToContent')}
      </a>
      <aside className="flex min-h-0 flex-col border-r bg-subtle max-md:relative max-md:z-20 max-md:border-r-0 max-md:border-b">
        <div className="flex items-center gap-1 px-2.5 pt-2.5 pb-1.5 max-md:px-2 max-md:py-1.5">
          <WorkspaceSwitcher initialWorkspaces={workspaces} />
          <Button
            type="button"
            variant="ghost"
            size="icon"
            className="md:hidden"
            aria-expanded={navOpen}
            aria-controls="sidebar-panel"
            aria-label={navOpen ? t('closeMenu') : t('openMenu')}
            onClick={() => setNavOpen((v) => !v)}
          >
            <NavIcon name={navOpen ? 'close' : 'menu'} />
          </Button>
        </div>
        <div
          id="sidebar-panel"
          className={cn(
            'flex min-h-0 flex-1 flex-col',
            // Narrow screens: the panel drops down over the page while open.
            navOpen
              ? 'max-md:absolute max-md:inset-x-0 max-md:top-full max-md:max-h-[calc(100dvh-50px)] max-md:border-b max-md:bg-subtle max-md:shadow-lg'
              : 'max-md:hidden',
          )}
        >
          <nav aria-label={t('mainNav')} className="flex-1 overflow-y-auto px-2.5 py-1.5">
            <ul className="flex flex-col gap-px">
              {items.map((item) => {
                const active = pathname === item.href || pathname.startsWith(`${item.href}/`);
                return (
                  <li key={item.href}>
                    <Link
                      href={item.href}
                      className="group flex h-8 items-center gap-2.5 rounded-sm px-2.5 font-medium text-muted-foreground no-underline hover:bg-accent hover:text-foreground hover:no-underline aria-[current=page]:bg-card aria-[current=page]:text-foreground aria-[current=page]:shadow-xs aria-[current=page]:ring-1 aria-[current=page]:ring-border aria-[current=page]:ring-inset"
                      aria-current={active ? 'page' : undefined}
                    >
                      <NavIcon name={item.icon} className="group-aria-[current=page]:text-primary" />
                      <span>{item.label}</span>
                    </Link>
                  </li>
                );
              })}
            </ul>
          </nav>
          <UserMenu />
        </div>
      </aside>
      <main id="main" className="min-h-0 min-w-0 overflow-y-auto outline-none" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
