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
import { Loading } from '@/components/ui/loading';
import { useErrorText } from '@/components/ui/use-error-text';
import { InstallDialog } from './install-dialog';
import { ManageInLarkLink, RegionBadge } from './lark-badges';
import './lark.css';

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
    <div className="lark-agent" data-integration="lark">
      <div className="lark-agent-head">
        <h3 className="lark-agent-title">{t('title')}</h3>
        {active ? (
          <>
            <span className="badge badge-success">{tLark('connected')}</span>
            <RegionBadge region={active.region} />
          </>
        ) : null}
      </div>
      {lark.isPending ? <Loading /> : null}
      {lark.error ? <Alert>{errorText(lark.error)}</Alert> : null}
      {justInstalled && active ? <Alert tone="success">{t('installed', { name: agent.name })}</Alert> : null}
      {lark.data && active ? (
        <>
          <p className="muted">
            {t.rich('connectedBody', {
              name: agent.name,
              settings: (chunks) => <Link href={`${base}/settings/integrations`}>{chunks}</Link>,
            })}
          </p>
          <div className="form-actions">
            <ManageInLarkLink href={active.console_url} />
          </div>
        </>
      ) : null}
      {lark.data && !active ? (
        <>
          <p className="muted">{t('body')}</p>
          {!lark.data.install_supported ? (
            <p className="muted">
              {t.rich('notConfigured', { guide: (chunks) => <Link href={`${base}/guide#self-hosting`}>{chunks}</Link> })}
            </p>
          ) : !agent.can_edit ? (
            <p className="muted">{t('noPermission')}</p>
          ) : agent.archived_at ? (
            <p className="muted">{t('archived')}</p>
          ) : null}
          <div className="form-actions">
            {canBind ? (
              <button type="button" className="btn btn-primary" onClick={() => setInstalling(true)}>
                {tLark('bindToLark')}
              </button>
            ) : null}
            <Link href={`${base}/guide`} className="btn btn-ghost">
              {t('guide')}
            </Link>
          </div>
        </>
      ) : null}
      {installing ? <InstallDialog agent={agent} onClose={close} onInstalled={installed} /> : null}
    </div>
  );
}
