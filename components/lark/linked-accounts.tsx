'use client';

import { useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import { useRef, useState, type ReactNode, type RefObject } from 'react';
import { toast } from 'sonner';
import { api } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths, useBotLarkAccounts, useMyLarkAccounts } from '@/components/api/queries';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { Avatar } from '@/components/ui/avatar';
import { Badge } from '@/components/ui/badge';
import { Card, CardDescription, CardHeader, CardTitle } from '@/components/ui/card';
import { Loading } from '@/components/ui/loading';
import { Table, TableBody, TableCaption, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table';
import { useErrorText } from '@/components/ui/use-error-text';
import { useFormatDate } from '@/components/ui/use-format';
import { cn } from '@/lib/utils';
import type { LarkInstallation, LarkLinkedAccount } from '@/server/contract/lark';
import { RemoveConfirmButton, type RemoveConfirmTexts } from './remove-confirm';
import { useRelativeTime } from './use-relative-time';

/** The Lark side of a link: the person's Lark name, or a shortened open_id when the bot never learned it. */
function LarkUser({ account }: { account: LarkLinkedAccount }) {
  return account.lark_user.name ? (
    <span className="wrap-anywhere">{account.lark_user.name}</span>
  ) : (
    <span className="font-mono text-[0.92em]">{account.lark_user.open_id_hint}</span>
  );
}

const larkUserLabel = (account: LarkLinkedAccount) => account.lark_user.name ?? account.lark_user.open_id_hint;

function Since({ at }: { at: string }) {
  const relative = useRelativeTime();
  const format = useFormatDate();
  return (
    <time dateTime={at} title={format.dateTime(at)} className="whitespace-nowrap">
      {relative(at)}
    </time>
  );
}

const cellClass = 'px-3 py-1.5 text-[12.5px]';

/**
 * A list of links: loading, failed, empty, or a table of them. Each row holds the cells `cells`
 * draws, then since when, then its remove button; `columns` heads all but the last.
 */
function LinkedAccountsList({
  accounts,
  empty,
  caption,
  columns,
  actions,
  cells,
  removal,
  returnFocus,
}: {
  accounts: UseQueryResult<LarkLinkedAccount[]>;
  empty: string;
  caption: string;
  columns: string[];
  actions: string;
  cells: (account: LarkLinkedAccount) => ReactNode;
  removal: (account: LarkLinkedAccount) => { remove: () => Promise<unknown>; texts: RemoveConfirmTexts };
  returnFocus: RefObject<HTMLElement | null>;
}) {
  const errorText = useErrorText();
  return (
    <>
      {accounts.isPending ? <Loading className="p-0" /> : null}
      {accounts.error ? <Alert>{errorText(accounts.error)}</Alert> : null}
      {accounts.data && accounts.data.length === 0 ? (
        <p className="rounded-sm border border-dashed border-input px-3 py-2.5 text-muted-foreground">{empty}</p>
      ) : null}
      {accounts.data && accounts.data.length > 0 ? (
        <Table>
          <TableCaption className="sr-only">{caption}</TableCaption>
          <TableHeader>
            <TableRow>
              {columns.map((c) => (
                <TableHead key={c} scope="col" className={cn(cellClass, 'h-auto')}>
                  {c}
                </TableHead>
              ))}
              <TableHead scope="col" className={cn(cellClass, 'h-auto')}>
                <span className="sr-only">{actions}</span>
              </TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {accounts.data.map((account) => (
              <TableRow key={account.id} data-binding={account.id}>
                {cells(account)}
                <TableCell className={cellClass}>
                  <Since at={account.bound_at} />
                </TableCell>
                <TableCell className={cn(cellClass, 'text-right')}>
                  <RemoveConfirmButton returnFocus={returnFocus} {...removal(account)} />
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : null}
    </>
  );
}

/** The member's own links in this workspace, each with Unlink (profile page). */
export function MyLarkAccounts() {
  const t = useTranslations('settings.profile');
  const tLark = useTranslations('lark');
  const queryClient = useQueryClient();
  const { workspace } = useWorkspace();
  const accounts = useMyLarkAccounts(workspace.id);
  const heading = useRef<HTMLHeadingElement>(null);

  const unlink = async (account: LarkLinkedAccount) => {
    await api(paths.larkMyLinkedAccount(workspace.id, account.id), { method: 'DELETE' });
    await queryClient.invalidateQueries({ queryKey: keys.larkLinkedAccounts(workspace.id) });
    toast.success(t('unlinked'));
  };

  return (
    <Card role="region" aria-labelledby="profile-lark-title" data-section="linked-lark-accounts">
      <CardHeader>
        <CardTitle id="profile-lark-title" ref={heading} tabIndex={-1} className="outline-none">
          {t('larkTitle')}
        </CardTitle>
        <CardDescription>{t('larkBody')}</CardDescription>
      </CardHeader>
      <LinkedAccountsList
        accounts={accounts}
        empty={t('larkEmpty')}
        caption={t('caption')}
        columns={[t('bot'), t('larkUser'), t('since')]}
        actions={t('actions')}
        returnFocus={heading}
        cells={(account) => (
          <>
            <TableCell className={cellClass}>
              <span className="flex items-center gap-2">
                <Avatar name={account.bot.name} color={account.bot.avatar} size="sm" className={cn(account.bot.status === 'revoked' && 'opacity-50')} />
                <span className="wrap-anywhere">{account.bot.name}</span>
                {account.bot.status === 'revoked' ? <Badge variant="destructive">{tLark('revoked')}</Badge> : null}
              </span>
            </TableCell>
            <TableCell className={cellClass}>
              <LarkUser account={account} />
            </TableCell>
          </>
        )}
        removal={(account) => ({
          remove: () => unlink(account),
          texts: {
            trigger: t('unlink'),
            triggerLabel: t('unlinkLabel', { bot: account.bot.name }),
            title: t('unlinkTitle', { bot: account.bot.name }),
            body: t('unlinkBody', { bot: account.bot.name }),
            confirm: t('unlinkConfirm'),
            pending: t('unlinking'),
            cancel: t('cancel'),
          },
        })}
      />
    </Card>
  );
}

/** Everyone linked through one bot, each with Remove (owners and admins); fetched only while the disclosure is open. */
export function BotLarkAccounts({ installation }: { installation: LarkInstallation }) {
  const t = useTranslations('lark.integrations.linked');
  const queryClient = useQueryClient();
  const { workspace } = useWorkspace();
  const [open, setOpen] = useState(false);
  const accounts = useBotLarkAccounts(workspace.id, installation.id, { enabled: open });
  const summary = useRef<HTMLElement>(null);

  const removeLink = async (account: LarkLinkedAccount) => {
    await api(paths.larkBotLinkedAccount(workspace.id, installation.id, account.id), { method: 'DELETE' });
    await queryClient.invalidateQueries({ queryKey: keys.larkLinkedAccounts(workspace.id) });
  };

  return (
    // Lines up with the bot's name, past the avatar.
    <details className="basis-full pl-11 text-[13px] max-md:pl-0" onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary ref={summary} className="w-fit cursor-pointer text-[12.5px] font-medium text-muted-foreground hover:text-foreground">
        {t('summary')}
      </summary>
      {open ? (
        <div className="mt-2 flex flex-col gap-2">
          <p className="text-[12.5px] text-muted-foreground">{t('hint')}</p>
          <LinkedAccountsList
            accounts={accounts}
            empty={t('empty')}
            caption={t('caption', { name: installation.agent.name })}
            columns={[t('larkUser'), t('member'), t('since')]}
            actions={t('actions')}
            returnFocus={summary}
            cells={(account) => (
              <>
                <TableCell className={cellClass}>
                  <LarkUser account={account} />
                </TableCell>
                <TableCell className={cellClass}>
                  <span className="wrap-anywhere">{account.member.name}</span>
                  <span className="block text-muted-foreground wrap-anywhere">{account.member.email}</span>
                </TableCell>
              </>
            )}
            removal={(account) => ({
              remove: () => removeLink(account),
              texts: {
                trigger: t('remove'),
                triggerLabel: t('removeLabel', { name: larkUserLabel(account) }),
                title: t('removeTitle', { name: larkUserLabel(account) }),
                body: t('removeBody'),
                confirm: t('removeConfirm'),
                pending: t('removing'),
                cancel: t('cancel'),
              },
            })}
          />
        </div>
      ) : null}
    </details>
  );
}
