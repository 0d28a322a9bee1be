'use client';

import { ExternalLink } from 'lucide-react';
import { useTranslations } from 'next-intl';
import type { LarkConnectionState, LarkRegion } from '@/server/contract/lark';
import { Badge } from '@/components/ui/badge';
import { buttonVariants } from '@/components/ui/button';
import { cn } from '@/lib/utils';

// Two brands, two tints, so a list of bots shows at a glance which one each lives in.
const regionVariant = { feishu: 'info', lark: 'default' } as const satisfies Record<LarkRegion, string>;

export function RegionBadge({ region }: { region: LarkRegion }) {
  const t = useTranslations('lark.region');
  return <Badge variant={regionVariant[region]}>{t(region)}</Badge>;
}

const connectionDot: Record<LarkConnectionState, string> = {
  connected: 'bg-success',
  connecting: 'bg-warning',
  backoff: 'bg-warning',
  disconnected: 'bg-faint-foreground',
};

export function ConnectionStatus({ state }: { state: LarkConnectionState }) {
  const t = useTranslations('lark.connection');
  return (
    <span className="inline-flex items-center gap-1.5 whitespace-nowrap">
      <span aria-hidden="true" className={cn('size-1.75 shrink-0 rounded-full', connectionDot[state])} />
      {t(state)}
    </span>
  );
}

/**
 * The bot in its brand's developer console (`console_url`, from the server, which knows the Lark
 * host the deployment uses); a new tab so the page (and any dialog) stays.
 */
export function ManageInLarkLink({ href, className }: { href: string; className?: string }) {
  const t = useTranslations('lark');
  return (
    <a href={href} target="_blank" rel="noopener noreferrer" className={cn(buttonVariants({ variant: 'secondary', size: 'sm' }), className)}>
      {t('manage')}
      <ExternalLink aria-hidden="true" className="size-3.5" />
      <span className="sr-only"> {t('opensInNewTab')}</span>
    </a>
  );
}
