'use client';

import { useQueryClient } from '@tanstack/react-query';
import { TriangleAlert } from 'lucide-react';
import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { useId, useRef, useState, type RefObject } from 'react';
import { api } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths, useLarkDrops, useLarkInstallations } from '@/components/api/queries';
import { larkDropReasons, type LarkDropReason, type LarkInboundDrop, type LarkInstallation } from '@/server/contract/lark';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { Avatar } from '@/components/ui/avatar';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { EmptyState } from '@/components/ui/empty-state';
import { Loading } from '@/components/ui/loading';
import { Table, TableBody, TableCaption, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table';
import { useErrorText } from '@/components/ui/use-error-text';
import { useFormatDate } from '@/components/ui/use-format';
import { cn } from '@/lib/utils';
import { ConnectionStatus, ManageInLarkLink, RegionBadge } from './lark-badges';
import { BotLarkAccounts } from './linked-accounts';
import { RemoveConfirmButton } from './remove-confirm';
import { useRelativeTime } from './use-relative-time';

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
    <section className="flex flex-col rounded-lg border bg-card text-card-foreground" data-section="lark" aria-labelledby="lark-integrations-title">
      <div className="flex flex-wrap items-baseline justify-between gap-3 border-b px-5 py-3.5 max-md:px-4 max-md:py-3">
        <h2 id="lark-integrations-title" className="text-sm font-semibold">
          {t('title')}
        </h2>
        <Link href={`${base}/guide`} className="text-[13px] text-muted-foreground hover:text-foreground">
          {t('guideLink')}
        </Link>
      </div>
      <div className="flex flex-col gap-3 px-5 py-4 max-md:px-4 max-md:py-3">
        <p className="text-muted-foreground">{t('body')}</p>
        {lark.isPending ? <Loading className="p-0" /> : null}
        {lark.error ? <Alert>{errorText(lark.error)}</Alert> : null}
        {data && !data.configured ? (
          <Alert variant="warning">
            <strong className="font-semibold">{t('notConfiguredTitle')}</strong>{' '}
            {t.rich('notConfiguredBody', { code: (chunks) => <code className="font-mono text-[0.92em]">{chunks}</code> })}
          </Alert>
        ) : null}
        {data && installations.length === 0 && data.configured ? (
          <EmptyState
            title={t('emptyTitle')}
            body={t('emptyBody')}
            action={
              <Button asChild variant="secondary">
                <Link href={`${base}/agents`}>{t('openAgents')}</Link>
              </Button>
            }
          />
        ) : null}
      </div>
      {installations.length > 0 ? (
        <ul className="flex flex-col" aria-label={t('listLabel')}>
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
  const nameRef = useRef<HTMLAnchorElement>(null);
  const revoked = i.status === 'revoked';
  return (
    <li className="flex flex-wrap items-center gap-3 border-t px-5 py-3.5 max-md:px-4 max-md:py-3" aria-labelledby={nameId}>
      <Avatar name={i.agent.name} color={i.agent.avatar} className={cn(revoked && 'opacity-50')} />
      <div className="flex min-w-0 flex-1 flex-col gap-0.5">
        <p className="flex flex-wrap items-center gap-1.5 font-medium">
          <Link ref={nameRef} id={nameId} href={`${base}/agents/${i.agent_id}`} className="min-w-0 truncate text-foreground">
            {i.agent.name}
          </Link>
          <RegionBadge region={i.region} />
          {revoked ? <Badge variant="destructive">{t('revoked')}</Badge> : null}
        </p>
        <p className="flex flex-wrap items-center gap-x-3 gap-y-1 text-[12.5px] text-muted-foreground">
          <span>{t('installedAt', { time: relative(i.installed_at) })}</span>
          {revoked ? null : <ConnectionStatus state={i.connection.state} />}
          {revoked ? null : (
            <span>{i.connection.last_event_at ? t('lastEvent', { time: relative(i.connection.last_event_at) }) : t('noEvents')}</span>
          )}
          <span className="font-mono text-[0.92em]" title={t('integrations.appId')}>
            {i.app_id}
          </span>
        </p>
        {i.last_delivery_error ? <DeliveryError error={i.last_delivery_error} /> : null}
      </div>
      <div className="flex flex-wrap items-center justify-end gap-2 max-md:w-full max-md:justify-start max-md:pl-11">
        <ManageInLarkLink href={i.console_url} />
        {i.can_manage && !revoked ? <DisconnectButton installation={i} nameRef={nameRef} /> : null}
      </div>
      {isAdmin ? <BotLarkAccounts installation={i} /> : null}
      {isAdmin ? <RecentDrops installation={i} /> : null}
    </li>
  );
}

function DeliveryError({ error }: { error: NonNullable<LarkInstallation['last_delivery_error']> }) {
  const t = useTranslations('lark.integrations');
  const relative = useRelativeTime();
  const format = useFormatDate();
  return (
    <p className="mt-0.5 flex flex-wrap items-baseline gap-x-2 gap-y-0.5 text-[12.5px] text-warning">
      <TriangleAlert aria-hidden="true" className="size-3.5 shrink-0 self-center" />
      <strong className="font-semibold">{t('deliveryError')}</strong>
      {error.code !== null ? <span className="font-mono">{t('deliveryErrorCode', { code: String(error.code) })}</span> : null}
      <time dateTime={error.at} title={format.dateTime(error.at)} className="whitespace-nowrap">
        {relative(error.at)}
      </time>
      <span className="line-clamp-2 basis-full wrap-anywhere" title={error.message}>
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
    // Lines up with the bot's name, past the avatar.
    <details className="basis-full pl-11 text-[13px] max-md:pl-0" onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary className="w-fit cursor-pointer text-[12.5px] font-medium text-muted-foreground hover:text-foreground">{t('summary')}</summary>
      {open ? (
        <div className="mt-2 flex flex-col gap-2">
          <p className="text-[12.5px] text-muted-foreground">{t('hint')}</p>
          {drops.isPending ? <Loading className="p-0" /> : null}
          {drops.error ? <Alert>{errorText(drops.error)}</Alert> : null}
          {rows && rows.length === 0 ? <p className="rounded-sm border border-dashed border-input px-3 py-2.5 text-muted-foreground">{t('empty')}</p> : null}
          {rows && rows.length > 0 ? <DropsTable drops={rows} agentName={installation.agent.name} /> : null}
          {drops.hasNextPage ? (
            <div className="flex flex-wrap items-center gap-2">
              <Button type="button" variant="secondary" size="sm" disabled={drops.isFetchingNextPage} onClick={() => void drops.fetchNextPage()}>
                {drops.isFetchingNextPage ? t('loadingMore') : t('showMore')}
              </Button>
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
  const cell = 'px-3 py-1.5 text-[12.5px]';
  return (
    <Table>
      <TableCaption className="sr-only">{t('caption', { name: agentName })}</TableCaption>
      <TableHeader>
        <TableRow>
          <TableHead scope="col" className={cn(cell, 'h-auto')}>
            {t('reason')}
          </TableHead>
          <TableHead scope="col" className={cn(cell, 'h-auto')}>
            {t('chat')}
          </TableHead>
          <TableHead scope="col" className={cn(cell, 'h-auto')}>
            {t('time')}
          </TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {drops.map((drop, index) => (
          <TableRow key={`${drop.received_at}-${index}`}>
            <TableCell className={cell}>
              {reasonLabel(drop.reason)}
              {drop.reason === 'unsupported_event' || !knownDropReasons.has(drop.reason) ? (
                <span className="font-mono text-muted-foreground"> ({drop.event_type})</span>
              ) : null}
            </TableCell>
            <TableCell className={cn(cell, 'wrap-anywhere')}>
              {drop.chat_id === null ? (
                <span className="text-muted-foreground">{t('noChat')}</span>
              ) : drop.chat_name ? (
                // The name is what people recognize; the id stays at hand for looking the chat up.
                <span title={drop.chat_id}>
                  {drop.chat_name} <span className="font-mono text-muted-foreground">({drop.chat_id})</span>
                </span>
              ) : (
                <span className="font-mono">{drop.chat_id}</span>
              )}
            </TableCell>
            <TableCell className={cn(cell, 'whitespace-nowrap')}>
              <time dateTime={drop.received_at} title={format.dateTime(drop.received_at)}>
                {relative(drop.received_at)}
              </time>
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

/** The row's Disconnect button and its confirmation. The button is gone once the bot is; the bot's name is where the row starts. */
function DisconnectButton({ installation, nameRef }: { installation: LarkInstallation; nameRef: RefObject<HTMLAnchorElement | null> }) {
  const t = useTranslations('lark.integrations');
  const queryClient = useQueryClient();
  const { workspace } = useWorkspace();
  const disconnect = async () => {
    await api(paths.larkInstallation(workspace.id, installation.id), { method: 'DELETE' });
    await queryClient.invalidateQueries({ queryKey: keys.larkInstallations(workspace.id) });
  };
  return (
    <RemoveConfirmButton
      returnFocus={nameRef}
      remove={disconnect}
      texts={{
        trigger: t('disconnect'),
        triggerLabel: t('disconnectLabel', { name: installation.agent.name }),
        title: t('disconnectTitle', { name: installation.agent.name }),
        body: t('disconnectBody'),
        confirm: t('disconnectConfirm'),
        pending: t('disconnecting'),
        cancel: t('cancel'),
      }}
    />
  );
}
