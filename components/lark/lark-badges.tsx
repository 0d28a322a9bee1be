'use client';

import { useTranslations } from 'next-intl';
import type { LarkConnectionState, LarkRegion } from '@/server/contract/lark';
import './lark.css';

export function RegionBadge({ region }: { region: LarkRegion }) {
  const t = useTranslations('lark.region');
  return <span className={`badge badge-region-${region}`}>{t(region)}</span>;
}

export function ConnectionStatus({ state }: { state: LarkConnectionState }) {
  const t = useTranslations('lark.connection');
  return <span className={`connection connection-${state}`}>{t(state)}</span>;
}

/**
 * The bot in its brand's developer console (`console_url`, from the server, which knows the Lark
 * host the deployment uses); a new tab so the page (and any dialog) stays.
 */
export function ManageInLarkLink({ href, className = 'btn btn-secondary btn-sm' }: { href: string; className?: string }) {
  const t = useTranslations('lark');
  return (
    <a href={href} target="_blank" rel="noopener noreferrer" className={className}>
      {t('manage')}
      <span className="visually-hidden"> {t('opensInNewTab')}</span>
    </a>
  );
}
