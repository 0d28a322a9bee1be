'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { useId, useState } from 'react';
import { api } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths, useLarkDrops, useLarkInstallations } from '@/components/api/queries';
import { larkDropReasons, type LarkDropReason, type LarkInboundDrop, type LarkInstallation } from '@/server/contract/lark';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { Avatar } from '@/components/ui/avatar';
import { EmptyState } from '@/components/ui/empty-state';
import { Loading } from '@/components/ui/loading';
import { useErrorText } from '@/components/ui/use-error-text';
import { useFormatDate } from '@/components/ui/use-format';
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
  const { base, isAdmin } = useWorkspace();
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
        {i.last_delivery_error ? <DeliveryError error={i.last_delivery_error} /> : null}
      </div>
      <div className="lark-row-actions">
        <ManageInLarkLink href={i.console_url} />
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
      {isAdmin ? <RecentDrops installation={i} /> : null}
      {confirming ? <DisconnectDialog installation={i} onClose={() => setConfirming(false)} /> : null}
    </li>
  );
}

function DeliveryError({ error }: { error: NonNullable<LarkInstallation['last_delivery_error']> }) {
  const t = useTranslations('lark.integrations');
  const relative = useRelativeTime();
  const format = useFormatDate();
  return (
    <p className="lark-row-warning">
      <span aria-hidden="true">⚠</span>
      <strong>{t('deliveryError')}</strong>
      {error.code !== null ? <span className="mono">{t('deliveryErrorCode', { code: String(error.code) })}</span> : null}
      <time dateTime={error.at} title={format.dateTime(error.at)} className="nowrap">
        {relative(error.at)}
      </time>
      <span className="lark-row-warning-message" title={error.message}>
        {error.message}
      </span>
    </p>
  );
}

const knownDropReasons: ReadonlySet<string> = new Set(larkDropReasons);

/** Events the bot let go, for owners and admins; fetched only while the disclosure is open. */
function RecentDrops({ installation }: { installation: LarkInstallation }) {
  const t = useTranslations('lark.integrations.drops');
  const errorText = useErrorText();
  const { workspace } = useWorkspace();
  const [open, setOpen] = useState(false);
  const drops = useLarkDrops(workspace.id, installation.id, { enabled: open });
  const rows = drops.data?.pages.flatMap((page) => page.drops);
  return (
    <details className="lark-drops" onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary>{t('summary')}</summary>
      {open ? (
        <div className="lark-drops-body">
          <p className="muted">{t('hint')}</p>
          {drops.isPending ? <Loading /> : null}
          {drops.error ? <Alert>{errorText(drops.error)}</Alert> : null}
          {rows && rows.length === 0 ? <p className="lark-drops-empty">{t('empty')}</p> : null}
          {rows && rows.length > 0 ? <DropsTable drops={rows} agentName={installation.agent.name} /> : null}
          {drops.hasNextPage ? (
            <div className="form-actions">
              <button type="button" className="btn btn-secondary btn-sm" disabled={drops.isFetchingNextPage} onClick={() => void drops.fetchNextPage()}>
                {drops.isFetchingNextPage ? t('loadingMore') : t('showMore')}
              </button>
            </div>
          ) : null}
        </div>
      ) : null}
    </details>
  );
}

function DropsTable({ drops, agentName }: { drops: LarkInboundDrop[]; agentName: string }) {
  const t = useTranslations('lark.integrations.drops');
  const relative = useRelativeTime();
  const format = useFormatDate();
  const reasonLabel = (reason: string) => (knownDropReasons.has(reason) ? t(`reasons.${reason as LarkDropReason}`) : t('reasons.unknown'));
  return (
    <div className="table-wrap">
      <table className="table lark-drops-table">
        <caption className="visually-hidden">{t('caption', { name: agentName })}</caption>
        <thead>
          <tr>
            <th scope="col">{t('reason')}</th>
            <th scope="col">{t('chat')}</th>
            <th scope="col">{t('time')}</th>
          </tr>
        </thead>
        <tbody>
          {drops.map((drop, index) => (
            <tr key={`${drop.received_at}-${index}`}>
              <td>
                {reasonLabel(drop.reason)}
                {drop.reason === 'unsupported_event' || !knownDropReasons.has(drop.reason) ? (
                  <span className="mono muted"> ({drop.event_type})</span>
                ) : null}
              </td>
              <td className="mono">{drop.chat_id ?? <span className="muted">{t('noChat')}</span>}</td>
              <td className="nowrap">
                <time dateTime={drop.received_at} title={format.dateTime(drop.received_at)}>
                  {relative(drop.received_at)}
                </time>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
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
