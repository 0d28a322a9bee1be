'use client';

import { useMutation, useQuery } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import { api, isApiError } from '@/components/api/client';
import { paths } from '@/components/api/queries';
import {
  larkBindingPreviewSchema,
  larkBindingRedeemedSchema,
  redeemBindingInput,
  type LarkBindingPreview,
  type LarkBindingRedeemed,
} from '@/server/contract/lark';
import { signInPath } from '@/components/auth/next-path';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { ConfirmButton, SwitchAccountButton } from '@/components/ui/confirm-actions';
import { Loading } from '@/components/ui/loading';
import { useErrorText } from '@/components/ui/use-error-text';
import { BindResult, BindResultTitle } from './bind-result';

type Props = { token: string; email: string; path: string };

/**
 * The binding link's page. Opening it changes nothing: it shows which Lark account would be
 * connected to which Larkspur account, and binds only when the visitor confirms. Someone else's
 * link opened by mistake (or sent on purpose) is then a page to close, not a hijacked account.
 */
export function BindLarkAccount({ token, email, path }: Props) {
  const t = useTranslations('lark.bind');
  const preview = useQuery({
    queryKey: ['lark-binding-preview', token],
    queryFn: ({ signal }) => api(paths.larkBindingPreview(token), { signal, response: larkBindingPreviewSchema }),
    enabled: token.length > 0,
    // A single-use link: once confirmed, refetching would only report it used.
    staleTime: Infinity,
    refetchOnWindowFocus: false,
    retry: false,
  });
  const redeem = useMutation({
    mutationFn: () => api(paths.larkBindingRedeem, { method: 'POST', request: redeemBindingInput, body: { token }, response: larkBindingRedeemedSchema }),
  });

  if (!token) return <Problem kind="missing" />;
  if (redeem.isSuccess) return <Success redeemed={redeem.data} />;
  const error = redeem.error ?? preview.error;
  if (error) {
    const problem = problemFor(error);
    if (problem) return <Problem kind={problem} email={email} path={path} />;
    return (
      <Failure
        error={error}
        onRetry={() => {
          // Only a failure that never reached a verdict is retried; the server still guards reuse.
          if (redeem.isError) redeem.reset();
          else void preview.refetch();
        }}
      />
    );
  }
  if (!preview.data) return <Loading label={t('checking')} />;
  return <Confirm preview={preview.data} pending={redeem.isPending} onConfirm={() => redeem.mutate()} />;
}

type ProblemKind = 'missing' | 'gone' | 'conflict' | 'forbidden' | 'unauthorized';

function problemFor(error: unknown): ProblemKind | null {
  const status = isApiError(error) ? error.status : 0;
  if (status === 410) return 'gone';
  if (status === 409) return 'conflict';
  if (status === 403) return 'forbidden';
  if (status === 401) return 'unauthorized';
  return null;
}

function Confirm({ preview, pending, onConfirm }: { preview: LarkBindingPreview; pending: boolean; onConfirm: () => void }) {
  const t = useTranslations('lark.bind');
  const larkName = preview.lark_user.name ?? t('unknownLarkUser');
  return (
    <BindResult>
      <BindResultTitle>{t('confirmTitle')}</BindResultTitle>
      <p className="text-muted-foreground">{t('confirmIntro')}</p>
      <dl className="m-0 grid grid-cols-[max-content_1fr] gap-x-3 gap-y-1.5 rounded-sm border bg-subtle px-3 py-2.5" aria-label={t('summaryLabel')}>
        <dt className="text-muted-foreground">{t('larkAccount')}</dt>
        <dd className={summaryValue} data-field="lark-user">
          {larkName}
        </dd>
        <dt className="text-muted-foreground">{t('bot')}</dt>
        <dd className={summaryValue} data-field="agent">
          {preview.agent.name}
        </dd>
        <dt className="text-muted-foreground">{t('workspace')}</dt>
        <dd className={summaryValue} data-field="workspace">
          {preview.workspace.name}
        </dd>
        <dt className="text-muted-foreground">{t('account')}</dt>
        <dd className={summaryValue} data-field="account">
          {preview.account.name} ({preview.account.email})
        </dd>
      </dl>
      <p className="text-muted-foreground">{t('confirmWarning', { lark: larkName, agent: preview.agent.name })}</p>
      <ConfirmButton pending={pending} pendingLabel={t('redeeming')} onClick={onConfirm}>
        {t('confirm')}
      </ConfirmButton>
      {/* Same window on purpose: desktop webviews do not open popups. */}
      <Button asChild variant="secondary" className="h-9 w-full">
        <a href="/">{t('decline')}</a>
      </Button>
    </BindResult>
  );
}

const summaryValue = 'm-0 font-semibold wrap-anywhere';

function Success({ redeemed }: { redeemed: LarkBindingRedeemed }) {
  const t = useTranslations('lark.bind');
  return (
    <BindResult role="status">
      <BindResultTitle>{t('successTitle')}</BindResultTitle>
      <p>{t('successBody', { workspace: redeemed.workspace.name })}</p>
      <p className="text-muted-foreground">{t('successNext', { agent: redeemed.agent.name })}</p>
      {/* Same window on purpose: desktop webviews do not open popups. */}
      <Button asChild className="h-9 w-full">
        <a href={`/w/${encodeURIComponent(redeemed.workspace.slug)}/chat`}>{t('openChat')}</a>
      </Button>
    </BindResult>
  );
}

function Problem({ kind, email = '', path = '/' }: { kind: ProblemKind; email?: string; path?: string }) {
  const t = useTranslations('lark.bind');
  return (
    <BindResult role="alert">
      <BindResultTitle>{t(`${kind}Title`)}</BindResultTitle>
      <p className="text-muted-foreground">{t(`${kind}Body`, { email })}</p>
      {kind === 'unauthorized' ? (
        <Button asChild className="h-9 w-full">
          <a href={signInPath(path)}>{t('signIn')}</a>
        </Button>
      ) : null}
      {kind === 'conflict' || kind === 'forbidden' ? (
        <>
          <p className="text-[12.5px] text-muted-foreground">{t('signedInAs', { email })}</p>
          {/* The link is still unused: another account can redeem it. */}
          <SwitchAccountButton path={path}>{t('switchAccount')}</SwitchAccountButton>
        </>
      ) : null}
    </BindResult>
  );
}

function Failure({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  const t = useTranslations('lark.bind');
  const errorText = useErrorText();
  return (
    <BindResult>
      <BindResultTitle>{t('errorTitle')}</BindResultTitle>
      <Alert>{errorText(error)}</Alert>
      <Button type="button" className="h-9 w-full" onClick={onRetry}>
        {t('retry')}
      </Button>
    </BindResult>
  );
}
