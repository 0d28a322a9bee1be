'use client';

import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import type { ReactNode } from 'react';
import { useWorkspace } from '@/components/providers/workspace-provider';

export function SettingsFrame({ children }: { children: ReactNode }) {
  const t = useTranslations('settings');
  const { base } = useWorkspace();
  const pathname = usePathname();
  const tabs = [
    { href: `${base}/settings`, label: t('tabs.general') },
    { href: `${base}/settings/members`, label: t('tabs.members') },
    { href: `${base}/settings/integrations`, label: t('tabs.integrations') },
  ];
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1 className="page-title">{t('title')}</h1>
        </div>
      </header>
      <nav className="tabs" aria-label={t('tabsLabel')}>
        {tabs.map((tab) => (
          <Link key={tab.href} href={tab.href} className="tab" aria-current={pathname === tab.href ? 'page' : undefined}>
            {tab.label}
          </Link>
        ))}
      </nav>
      <div className="tab-panel">{children}</div>
    </div>
  );
}
