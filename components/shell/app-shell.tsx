'use client';

import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useState, type ReactNode } from 'react';
import type { WorkspaceSummary } from '@/server/contract/workspaces';
import { useWorkspace } from '@/components/providers/workspace-provider';
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
    <div className="shell">
      <a href="#main" className="skip-link">
        {t('skipToContent')}
      </a>
      <aside className={`sidebar${navOpen ? ' sidebar-open' : ''}`}>
        <div className="sidebar-top">
          <WorkspaceSwitcher initialWorkspaces={workspaces} />
          <button
            type="button"
            className="icon-button sidebar-toggle"
            aria-expanded={navOpen}
            aria-controls="sidebar-panel"
            aria-label={navOpen ? t('closeMenu') : t('openMenu')}
            onClick={() => setNavOpen((v) => !v)}
          >
            <NavIcon name={navOpen ? 'close' : 'menu'} />
          </button>
        </div>
        <div className="sidebar-panel" id="sidebar-panel">
          <nav aria-label={t('mainNav')} className="sidebar-nav">
            <ul>
              {items.map((item) => {
                const active = pathname === item.href || pathname.startsWith(`${item.href}/`);
                return (
                  <li key={item.href}>
                    <Link href={item.href} className="nav-link" aria-current={active ? 'page' : undefined}>
                      <NavIcon name={item.icon} />
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
      <main id="main" className="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
