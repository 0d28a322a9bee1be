'use client';

import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import type { ReactNode } from 'react';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { tabTriggerClassName } from '@/components/ui/tabs';
import { cn } from '@/lib/utils';

export function SettingsFrame({ children }: { children: ReactNode }) {
  const t = useTranslations('settings');
  const { base } = useWorkspace();
  const pathname = usePathname();
  const tabs = [
    { href: `${base}/settings`, label: t('tabs.general') },
    { href: `${base}/settings/members`, label: t('tabs.members') },
    { href: `${base}/settings/integrations`, label: t('tabs.integrations') },
    { href: `${base}/settings/profile`, label: t('tabs.profile') },
  ];
  return (
    <div className="mx-auto flex w-full max-w-260 flex-col gap-4.5 px-4 pt-4.5 pb-10 md:px-8 md:pt-7 md:pb-12">
      <header>
        <h1 className="text-xl font-semibold tracking-tight [overflow-wrap:anywhere]">{t('title')}</h1>
      </header>
      {/* Each section is its own page, so these are links (with aria-current), not ARIA tabs. */}
      <nav className="flex items-center gap-0.5 overflow-x-auto border-b" aria-label={t('tabsLabel')}>
        {tabs.map((tab) => (
          <Link
            key={tab.href}
            href={tab.href}
            className={cn(tabTriggerClassName, 'whitespace-nowrap')}
            aria-current={pathname === tab.href ? 'page' : undefined}
          >
            {tab.label}
          </Link>
        ))}
      </nav>
      <div className="pt-1">{children}</div>
    </div>
  );
}
