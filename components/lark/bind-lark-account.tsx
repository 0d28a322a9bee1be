'use client';

import { useMutation, useQuery } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import { useState } from 'react';
import { api, isApiError } from '@/components/api/client';
import { paths } from '@/components/api/queries';
import {
  larkBindingPreviewSchema,
  larkBindingRedeemedSchema,
  redeemBindingInput,
  type LarkBindingPreview,
  type LarkBindingRedeemed,
} from '@/server/contract/lark';
import { authClient } from '@/components/auth/auth-client';
import { signInPath } from '@/components/auth/next-path';
import { Alert } from '@/components/ui/alert';
import { Loading } from '@/components/ui/loading';
import { useErrorText } from '@/components/ui/use-error-text';
import './lark.css';

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
    <div className="bind-result">
      <h2 className="bind-result-title">{t('confirmTitle')}</h2>
      <p className="muted">{t('confirmIntro')}</p>
      <dl className="bind-summary" aria-label={t('summaryLabel')}>
        <dt>{t('larkAccount')}</dt>
        <dd data-field="lark-user">{larkName}</dd>
        <dt>{t('bot')}</dt>
        <dd data-field="agent">{preview.agent.name}</dd>
        <dt>{t('workspace')}</dt>
        <dd data-field="workspace">{preview.workspace.name}</dd>
        <dt>{t('account')}</dt>
        <dd data-field="account">
          {preview.account.name} ({preview.account.email})
        </dd>
      </dl>
      <p className="muted">{t('confirmWarning', { lark: larkName, agent: preview.agent.name })}</p>
      <button type="button" className="btn btn-primary btn-block" disabled={pending} onClick={onConfirm}>
        {pending ? t('redeeming') : t('confirm')}
      </button>
      {/* Same window on purpose: desktop webviews do not open popups. */}
      <a href="/" className="btn btn-secondary btn-block">
        {t('decline')}
      </a>
    </div>
  );
}

function Success({ redeemed }: { redeemed: LarkBindingRedeemed }) {
  const t = useTranslations('lark.bind');
  return (
    <div className="bind-result" role="status">
      <h2 className="bind-result-title">{t('successTitle')}</h2>
      <p>{t('successBody', { workspace: redeemed.workspace.name })}</p>
      <p className="muted">{t('successNext', { agent: redeemed.agent.name })}</p>
      {/* Same window on purpose: desktop webviews do not open popups. */}
      <a href={`/w/${encodeURIComponent(redeemed.workspace.slug)}/chat`} className="btn btn-primary btn-block">
        {t('openChat')}
      </a>
    </div>
  );
}

function Problem({ kind, email = '', path = '/' }: { kind: ProblemKind; email?: string; path?: string }) {
  const t = useTranslations('lark.bind');
  return (
    <div className="bind-result" role="alert">
      <h2 className="bind-result-title">{t(`${kind}Title`)}</h2>
      <p className="muted">{t(`${kind}Body`, { email })}</p>
      {kind === 'unauthorized' ? (
        <a href={signInPath(path)} className="btn btn-primary btn-block">
          {t('signIn')}
        </a>
      ) : null}
      {kind === 'conflict' || kind === 'forbidden' ? (
        <>
          <p className="muted auth-footnote">{t('signedInAs', { email })}</p>
          <SwitchAccount path={path} />
        </>
      ) : null}
    </div>
  );
}

function Failure({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  const t = useTranslations('lark.bind');
  const errorText = useErrorText();
  return (
    <div className="bind-result">
      <h2 className="bind-result-title">{t('errorTitle')}</h2>
      <Alert>{errorText(error)}</Alert>
      <button type="button" className="btn btn-primary btn-block" onClick={onRetry}>
        {t('retry')}
      </button>
    </div>
  );
}

/** Signs out and comes back to this link, so another account can redeem it (the token is still unused). */
function SwitchAccount({ path }: { path: string }) {
  const t = useTranslations('lark.bind');
  const [pending, setPending] = useState(false);
  async function switchAccount() {
    setPending(true);
    try {
      await authClient.signOut();
    } finally {
      window.location.assign(signInPath(path));
    }
  }
  return (
    <button type="button" className="btn btn-secondary btn-block" disabled={pending} onClick={() => void switchAccount()}>
      {t('switchAccount')}
    </button>
  );
}
