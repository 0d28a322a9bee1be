'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { useCallback, useState } from 'react';
import { keys } from '@/components/api/keys';
import { useLarkInstallations } from '@/components/api/queries';
import type { Agent } from '@/server/contract/agents';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Loading } from '@/components/ui/loading';
import { useErrorText } from '@/components/ui/use-error-text';
import { InstallDialog } from './install-dialog';
import { ManageInLarkLink, RegionBadge } from './lark-badges';

/**
 * The agent page's Lark block. An agent with a live bot shows that bot instead of the bind button,
 * so nobody scans again and leaves the first bot orphaned in Lark.
 */
export function AgentLark({ agent }: { agent: Agent }) {
  const t = useTranslations('lark.agent');
  const tLark = useTranslations('lark');
  const errorText = useErrorText();
  const queryClient = useQueryClient();
  const { workspace, base } = useWorkspace();
  const lark = useLarkInstallations(workspace.id);
  const [installing, setInstalling] = useState(false);
  const [justInstalled, setJustInstalled] = useState(false);

  const close = useCallback(() => setInstalling(false), []);
  const installed = useCallback(() => {
    // Close once the listing knows the bot, so the bind button never flashes back in between.
    void queryClient.invalidateQueries({ queryKey: keys.larkInstallations(workspace.id) }).finally(() => {
      setInstalling(false);
      setJustInstalled(true);
    });
  }, [queryClient, workspace.id]);

  const active = lark.data?.installations.find((i) => i.agent_id === agent.id && i.status === 'active');
  const canBind = agent.can_edit && Boolean(lark.data?.install_supported) && !agent.archived_at;

  return (
    <div className="flex flex-col gap-2.5" data-integration="lark">
      <div className="flex flex-wrap items-center gap-2">
        <h3 className="text-[13px] font-semibold">{t('title')}</h3>
        {active ? (
          <>
            <Badge variant="success">{tLark('connected')}</Badge>
            <RegionBadge region={active.region} />
          </>
        ) : null}
      </div>
      {lark.isPending ? <Loading className="p-0" /> : null}
      {lark.error ? <Alert>{errorText(lark.error)}</Alert> : null}
      {justInstalled && active ? <Alert variant="success">{t('installed', { name: agent.name })}</Alert> : null}
      {lark.data && active ? (
        <>
          <p className="text-muted-foreground">
            {t.rich('connectedBody', {
              name: agent.name,
              settings: (chunks) => <Link href={`${base}/settings/integrations`} className="underline underline-offset-2">
                  {chunks}
                </Link>,
            })}
          </p>
          <div className="flex flex-wrap items-center gap-2">
            <ManageInLarkLink href={active.console_url} />
          </div>
        </>
      ) : null}
      {lark.data && !active ? (
        <>
          <p className="text-muted-foreground">{t('body')}</p>
          {!lark.data.install_supported ? (
            <p className="text-muted-foreground">
              {t.rich('notConfigured', { guide: (chunks) => <Link href={`${base}/guide#self-hosting`} className="underline underline-offset-2">
                    {chunks}
                  </Link> })}
            </p>
          ) : !agent.can_edit ? (
            <p className="text-muted-foreground">{t('noPermission')}</p>
          ) : agent.archived_at ? (
            <p className="text-muted-foreground">{t('archived')}</p>
          ) : null}
          <div className="flex flex-wrap items-center gap-2">
            {canBind ? (
              <Button type="button" onClick={() => setInstalling(true)}>
                {tLark('bindToLark')}
              </Button>
            ) : null}
            <Button asChild variant="ghost">
              <Link href={`${base}/guide`}>{t('guide')}</Link>
            </Button>
          </div>
        </>
      ) : null}
      {installing ? <InstallDialog agent={agent} onClose={close} onInstalled={installed} /> : null}
    </div>
  );
}
