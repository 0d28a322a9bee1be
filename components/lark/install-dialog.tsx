'use client';

import { useTranslations } from 'next-intl';
import { useEffect, useId, useRef, useState } from 'react';
import QRCode from 'react-qr-code';
import { api, isApiError } from '@/components/api/client';
import { paths, useLarkInstallStatus } from '@/components/api/queries';
import { beginInstallInput, larkInstallBeginSchema, larkRegions, type LarkInstallBegin, type LarkRegion } from '@/server/contract/lark';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { NavIcon } from '@/components/shell/nav-icon';
import { useErrorText } from '@/components/ui/use-error-text';
import { installErrorKey } from './lark-links';
import { Modal } from './modal';

type Attempt = { id: number; region: LarkRegion };
type Settled<T> = { attemptId: number; value: T };

type InstallDialogProps = {
  agent: { id: string; name: string };
  onClose: () => void;
  /** The bot exists: the dialog's owner closes it and refreshes what lists bots. */
  onInstalled: (installationId: string | undefined) => void;
};

/**
 * Binds an agent to a new Lark bot: starts a device-flow session as soon as it opens, shows the
 * session's QR code and polls until Lark reports the outcome.
 */
export function InstallDialog({ agent, onClose, onInstalled }: InstallDialogProps) {
  const t = useTranslations('lark.install');
  const errorText = useErrorText();
  const { workspace } = useWorkspace();
  const titleId = useId();
  const [attempt, setAttempt] = useState<Attempt>({ id: 0, region: 'feishu' });
  const [begun, setBegun] = useState<Settled<LarkInstallBegin> | null>(null);
  const [beginError, setBeginError] = useState<Settled<unknown> | null>(null);
  // One begin per attempt, even when StrictMode runs the effect twice: the second run reuses the
  // first run's request instead of opening another session in Lark.
  const inflight = useRef<{ attemptId: number; promise: Promise<LarkInstallBegin> } | null>(null);

  useEffect(() => {
    // Re-armed on every run; a result arriving after cleanup (closed, restarted) is dropped.
    let active = true;
    let request = inflight.current;
    if (!request || request.attemptId !== attempt.id) {
      request = {
        attemptId: attempt.id,
        promise: api(paths.larkInstallBegin(workspace.id), {
          method: 'POST',
          request: beginInstallInput,
          body: { agent_id: agent.id, region: attempt.region },
          response: larkInstallBeginSchema,
        }),
      };
      inflight.current = request;
    }
    const mine = request;
    mine.promise.then(
      (value) => {
        if (active && inflight.current === mine) setBegun({ attemptId: mine.attemptId, value });
      },
      (error: unknown) => {
        if (active && inflight.current === mine) setBeginError({ attemptId: mine.attemptId, value: error });
      },
    );
    return () => {
      active = false;
    };
  }, [attempt, workspace.id, agent.id]);

  const session = begun?.attemptId === attempt.id ? begun.value : null;
  const failedToBegin = beginError?.attemptId === attempt.id ? beginError.value : null;
  const status = useLarkInstallStatus(workspace.id, session?.session_id ?? null, session?.poll_interval_seconds ?? 2);

  const installed = session && status.data?.status === 'success' ? session.session_id : null;
  const reported = useRef<string | null>(null);
  useEffect(() => {
    if (installed && reported.current !== installed) {
      reported.current = installed;
      onInstalled(status.data?.installation_id);
    }
  }, [installed, onInstalled, status.data?.installation_id]);

  const restart = (region: LarkRegion = attempt.region) => setAttempt((a) => ({ id: a.id + 1, region }));

  const pollError = status.error;
  const lost = isApiError(pollError) && pollError.status === 404;
  const forbidden = isApiError(pollError) && pollError.status === 403;
  const failedReason = status.data?.status === 'error' ? installErrorKey(status.data.error_reason) : null;
  const problem = lost ? t('reasons.session_lost') : forbidden ? t('reasons.forbidden') : failedReason ? t(`reasons.${failedReason}`) : null;
  const waiting = session !== null && problem === null && !installed;

  return (
    <Modal labelledBy={titleId} onClose={onClose} className="install-dialog">
      <div className="modal-header">
        <h2 id={titleId} className="modal-title">
          {t('title', { name: agent.name })}
        </h2>
        <button type="button" className="icon-button" aria-label={t('close')} onClick={onClose}>
          <NavIcon name="close" />
        </button>
      </div>
      <div className="modal-body">
        <div className="region-row">
          <fieldset className="segmented" aria-describedby={`${titleId}-region-hint`}>
            <legend className="visually-hidden">{t('region')}</legend>
            {larkRegions.map((region) => (
              <label key={region}>
                <input
                  type="radio"
                  name={`${titleId}-region`}
                  value={region}
                  checked={attempt.region === region}
                  onChange={() => restart(region)}
                />
                {t(`regions.${region}`)}
              </label>
            ))}
          </fieldset>
          <p id={`${titleId}-region-hint`} className="field-hint">
            {t('regionHint')}
          </p>
        </div>

        {failedToBegin ? (
          <>
            <Alert>
              {t('beginFailed')} {errorText(failedToBegin)}
            </Alert>
            <div className="modal-actions">
              <button type="button" className="btn btn-ghost" onClick={onClose}>
                {t('close')}
              </button>
              <button type="button" className="btn btn-primary" onClick={() => restart()}>
                {t('tryAgain')}
              </button>
            </div>
          </>
        ) : problem ? (
          <>
            <Alert>{problem}</Alert>
            <div className="modal-actions">
              <button type="button" className="btn btn-ghost" onClick={onClose}>
                {t('close')}
              </button>
              <button type="button" className="btn btn-primary" onClick={() => restart()}>
                {t('scanAgain')}
              </button>
            </div>
          </>
        ) : (
          <>
            <figure className="qr-panel">
              {session ? (
                <div className="qr-frame">
                  <QRCode value={session.qr_code_url} size={200} level="M" role="img" aria-label={t('qrLabel', { name: agent.name })} />
                </div>
              ) : (
                <div className="qr-placeholder">
                  <span className="spinner" aria-hidden="true" />
                </div>
              )}
              {/* The server checks the scheme when the session starts; a link is never a script. */}
              {session && /^https?:\/\//i.test(session.qr_code_url) ? (
                <figcaption className="open-link-row">
                  <span className="muted">{t('openLinkHint')}</span>
                  <a href={session.qr_code_url} target="_blank" rel="noopener noreferrer">
                    {t('openLink')}
                  </a>
                </figcaption>
              ) : null}
            </figure>
            <ol className="steps">
              <li>{t('steps.scan')}</li>
              <li>{t('steps.approve')}</li>
              <li>{t('steps.wait')}</li>
            </ol>
            <p className="install-status" role="status" aria-live="polite">
              {session ? null : <span className="spinner" aria-hidden="true" />}
              {!session
                ? t('preparing')
                : waiting && pollError
                  ? t('retrying')
                  : waiting
                    ? t('waiting', { minutes: Math.max(1, Math.round(session.expires_in_seconds / 60)) })
                    : t('finishing')}
            </p>
            {session ? (
              <div className="modal-actions">
                <button type="button" className="btn btn-ghost" onClick={() => restart()}>
                  {t('scanAgain')}
                </button>
              </div>
            ) : null}
          </>
        )}
      </div>
    </Modal>
  );
}
