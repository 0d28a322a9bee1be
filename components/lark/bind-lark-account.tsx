'use client';

import { useTranslations } from 'next-intl';
import { useEffect, useState } from 'react';
import { api, isApiError } from '@/components/api/client';
import { paths } from '@/components/api/queries';
import { larkBindingRedeemedSchema, redeemBindingInput, type LarkBindingRedeemed } from '@/server/contract/lark';
import { authClient } from '@/components/auth/auth-client';
import { signInPath } from '@/components/auth/next-path';
import { Alert } from '@/components/ui/alert';
import { Loading } from '@/components/ui/loading';
import { useErrorText } from '@/components/ui/use-error-text';
import './lark.css';

type Outcome = { ok: true; value: LarkBindingRedeemed } | { ok: false; error: unknown };

// A token works exactly once: a second POST would answer 410 and hide the real outcome. Requests
// are shared per token for the life of the page, whatever StrictMode or a remount does.
const redemptions = new Map<string, Promise<Outcome>>();

function redeemOnce(token: string): Promise<Outcome> {
  let pending = redemptions.get(token);
  if (!pending) {
    pending = api(paths.larkBindingRedeem, { method: 'POST', request: redeemBindingInput, body: { token }, response: larkBindingRedeemedSchema }).then(
      (value): Outcome => ({ ok: true, value }),
      (error: unknown): Outcome => ({ ok: false, error }),
    );
    redemptions.set(token, pending);
  }
  return pending;
}

type Props = { token: string; email: string; path: string };

export function BindLarkAccount({ token, email, path }: Props) {
  const t = useTranslations('lark.bind');
  const [attempt, setAttempt] = useState(0);
  const [result, setResult] = useState<{ token: string; attempt: number; outcome: Outcome } | null>(null);

  useEffect(() => {
    if (!token) return;
    let active = true;
    void redeemOnce(token).then((outcome) => {
      if (active) setResult({ token, attempt, outcome });
    });
    return () => {
      active = false;
    };
  }, [token, attempt]);

  if (!token) return <Problem kind="missing" />;
  const outcome = result && result.token === token && result.attempt === attempt ? result.outcome : null;
  if (!outcome) return <Loading label={t('redeeming')} />;
  if (outcome.ok) return <Success redeemed={outcome.value} />;

  const error = outcome.error;
  const status = isApiError(error) ? error.status : 0;
  if (status === 410) return <Problem kind="gone" />;
  if (status === 409) return <Problem kind="conflict" path={path} />;
  if (status === 403) return <Problem kind="forbidden" email={email} path={path} />;
  if (status === 401) return <Problem kind="unauthorized" path={path} />;
  return (
    <Failure
      error={error}
      onRetry={() => {
        // Only a failure that never reached a verdict is retried; the server still guards reuse.
        redemptions.delete(token);
        setAttempt((n) => n + 1);
      }}
    />
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

type ProblemKind = 'missing' | 'gone' | 'conflict' | 'forbidden' | 'unauthorized';

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
