'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { useId, useState } from 'react';
import { api } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths, useLarkInstallations } from '@/components/api/queries';
import type { LarkInstallation } from '@/components/api/types';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { Avatar } from '@/components/ui/avatar';
import { EmptyState } from '@/components/ui/empty-state';
import { Loading } from '@/components/ui/loading';
import { useErrorText } from '@/components/ui/use-error-text';
import { ConnectionStatus, ManageInLarkLink, RegionBadge } from './lark-badges';
import { Modal } from './modal';
import { useRelativeTime } from './use-relative-time';
import './lark.css';

/** Settings → Integrations: every Lark bot of the workspace, its health, and the way out. */
export function LarkIntegrations() {
  const t = useTranslations('lark.integrations');
  const errorText = useErrorText();
  const { workspace, base } = useWorkspace();
  const lark = useLarkInstallations(workspace.id, { poll: true });
  const data = lark.data;
  // Live bots first; disconnected ones stay listed so their history remains attributable.
  const installations = data ? [...data.installations].sort((a, b) => Number(a.status === 'revoked') - Number(b.status === 'revoked')) : [];

  return (
    <section className="card card-flush" data-section="lark" aria-labelledby="lark-integrations-title">
      <div className="card-header">
        <h2 id="lark-integrations-title" className="card-title">
          {t('title')}
        </h2>
        <Link href={`${base}/guide`} className="muted">
          {t('guideLink')}
        </Link>
      </div>
      <div className="lark-section-body">
        <p className="muted">{t('body')}</p>
        {lark.isPending ? <Loading /> : null}
        {lark.error ? <Alert>{errorText(lark.error)}</Alert> : null}
        {data && !data.configured ? (
          <Alert tone="warning">
            <strong>{t('notConfiguredTitle')}</strong>{' '}
            {t.rich('notConfiguredBody', { code: (chunks) => <code className="mono">{chunks}</code> })}
          </Alert>
        ) : null}
        {data && installations.length === 0 && data.configured ? (
          <EmptyState
            title={t('emptyTitle')}
            body={t('emptyBody')}
            action={
              <Link href={`${base}/agents`} className="btn btn-secondary">
                {t('openAgents')}
              </Link>
            }
          />
        ) : null}
      </div>
      {installations.length > 0 ? (
        <ul className="lark-list" aria-label={t('listLabel')}>
          {installations.map((installation) => (
            <InstallationRow key={installation.id} installation={installation} />
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function InstallationRow({ installation: i }: { installation: LarkInstallation }) {
  const t = useTranslations('lark');
  const { base } = useWorkspace();
  const relative = useRelativeTime();
  const nameId = useId();
  const [confirming, setConfirming] = useState(false);
  const revoked = i.status === 'revoked';
  return (
    <li className={`lark-row${revoked ? ' lark-row-revoked' : ''}`} aria-labelledby={nameId}>
      <Avatar name={i.agent.name} color={i.agent.avatar} />
      <div className="lark-row-main">
        <p className="lark-row-title">
          <Link id={nameId} href={`${base}/agents/${i.agent_id}`} className="truncate">
            {i.agent.name}
          </Link>
          <RegionBadge region={i.region} />
          {revoked ? <span className="badge badge-danger">{t('revoked')}</span> : null}
        </p>
        <p className="lark-row-meta">
          <span>{t('installedAt', { time: relative(i.installed_at) })}</span>
          {revoked ? null : <ConnectionStatus state={i.connection.state} />}
          {revoked ? null : (
            <span>{i.connection.last_event_at ? t('lastEvent', { time: relative(i.connection.last_event_at) }) : t('noEvents')}</span>
          )}
          <span className="mono" title={t('integrations.appId')}>
            {i.app_id}
          </span>
        </p>
      </div>
      <div className="lark-row-actions">
        <ManageInLarkLink region={i.region} appId={i.app_id} />
        {i.can_manage && !revoked ? (
          <button
            type="button"
            className="btn btn-ghost btn-sm"
            aria-label={t('integrations.disconnectLabel', { name: i.agent.name })}
            onClick={() => setConfirming(true)}
          >
            {t('integrations.disconnect')}
          </button>
        ) : null}
      </div>
      {confirming ? <DisconnectDialog installation={i} onClose={() => setConfirming(false)} /> : null}
    </li>
  );
}

function DisconnectDialog({ installation, onClose }: { installation: LarkInstallation; onClose: () => void }) {
  const t = useTranslations('lark.integrations');
  const errorText = useErrorText();
  const queryClient = useQueryClient();
  const { workspace } = useWorkspace();
  const titleId = useId();
  const bodyId = useId();
  const disconnect = useMutation({
    mutationFn: () => api(paths.larkInstallation(workspace.id, installation.id), { method: 'DELETE' }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: keys.larkInstallations(workspace.id) });
      onClose();
    },
  });
  return (
    <Modal role="alertdialog" labelledBy={titleId} describedBy={bodyId} onClose={onClose}>
      <div className="modal-header">
        <h2 id={titleId} className="modal-title">
          {t('disconnectTitle', { name: installation.agent.name })}
        </h2>
      </div>
      <div className="modal-body">
        <p id={bodyId} className="muted">
          {t('disconnectBody')}
        </p>
        {disconnect.error ? <Alert>{errorText(disconnect.error)}</Alert> : null}
        <div className="modal-actions">
          <button type="button" className="btn btn-ghost" disabled={disconnect.isPending} onClick={onClose} autoFocus>
            {t('cancel')}
          </button>
          <button type="button" className="btn btn-danger" disabled={disconnect.isPending} onClick={() => disconnect.mutate()}>
            {disconnect.isPending ? t('disconnecting') : t('disconnectConfirm')}
          </button>
        </div>
      </div>
    </Modal>
  );
}
