'use client';

import { useTranslations } from 'next-intl';
import { useCallback, useEffect, useId, useRef, useState, useSyncExternalStore } from 'react';
import QRCode from 'react-qr-code';
import { api, isApiError } from '@/components/api/client';
import { paths, useLarkInstallStatus } from '@/components/api/queries';
import { beginInstallInput, larkInstallBeginSchema, larkRegions, type LarkInstallBegin, type LarkRegion } from '@/server/contract/lark';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Dialog, DialogContent, DialogFooter, DialogHeader, DialogTitle } from '@/components/ui/dialog';
import { Spinner } from '@/components/ui/spinner';
import { useErrorText } from '@/components/ui/use-error-text';
import { cn } from '@/lib/utils';
import { installErrorKey } from './lark-links';

/** A begun session, with the moment its code expires on this browser's clock. */
type Session = LarkInstallBegin & { expiresAt: number };
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
 * session's QR code with the time left to scan it, and polls until Lark reports the outcome.
 * Open while mounted; Escape and the close buttons ask the owner to unmount it.
 */
export function InstallDialog({ agent, onClose, onInstalled }: InstallDialogProps) {
  const t = useTranslations('lark.install');
  const errorText = useErrorText();
  const { workspace } = useWorkspace();
  const hintId = useId();
  const radioName = useId();
  // Focus goes back to whatever opened the dialog (Radix only knows its own trigger).
  const [opener] = useState(() => (typeof document === 'undefined' ? null : document.activeElement));
  const [attempt, setAttempt] = useState<Attempt>({ id: 0, region: 'feishu' });
  const [begun, setBegun] = useState<Settled<Session> | null>(null);
  const [beginError, setBeginError] = useState<Settled<unknown> | null>(null);
  // One begin per attempt, even when StrictMode runs the effect twice: the second run reuses the
  // first run's request instead of opening another session in Lark.
  const inflight = useRef<{ attemptId: number; promise: Promise<Session> } | null>(null);

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
        }).then((begin) => ({ ...begin, expiresAt: Date.now() + begin.expires_in_seconds * 1000 })),
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
  const secondsLeft = useSecondsLeft(session?.expiresAt ?? null);

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
  // The code is dead at zero whether or not the server has said so yet. Polling goes on meanwhile,
  // so an approval that landed in the last second still closes the dialog.
  const expired = session !== null && !installed && secondsLeft === 0;
  const problem = lost
    ? t('reasons.session_lost')
    : forbidden
      ? t('reasons.forbidden')
      : failedReason
        ? t(`reasons.${failedReason}`)
        : expired
          ? t('reasons.expired')
          : null;
  const waiting = session !== null && problem === null && !installed;

  return (
    <Dialog
      open
      onOpenChange={(open) => {
        if (!open) onClose();
      }}
    >
      <DialogContent
        className="max-w-115 gap-3.5 p-5"
        closeLabel={t('close')}
        aria-describedby={undefined}
        // A stray click beside the dialog would throw away a code someone may be scanning right now.
        onInteractOutside={(event) => event.preventDefault()}
        onCloseAutoFocus={(event) => {
          event.preventDefault();
          if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
        }}
      >
        <DialogHeader>
          <DialogTitle className="wrap-anywhere">{t('title', { name: agent.name })}</DialogTitle>
        </DialogHeader>

        <div className="flex flex-wrap items-center justify-between gap-3">
          <fieldset className="m-0 inline-flex min-w-0 gap-0.5 rounded-md border-0 bg-muted p-0.5" aria-describedby={hintId}>
            <legend className="sr-only">{t('region')}</legend>
            {larkRegions.map((region) => (
              <label
                key={region}
                className={cn(
                  'relative inline-flex h-7 cursor-pointer items-center rounded-sm border border-transparent px-3 text-[13px] font-medium text-muted-foreground hover:text-foreground',
                  'has-checked:border-border has-checked:bg-card has-checked:text-foreground has-checked:shadow-xs has-focus-visible:ring-2 has-focus-visible:ring-ring',
                )}
              >
                <input
                  type="radio"
                  className="sr-only"
                  name={radioName}
                  value={region}
                  checked={attempt.region === region}
                  onChange={() => restart(region)}
                />
                {t(`regions.${region}`)}
              </label>
            ))}
          </fieldset>
          <p id={hintId} className="text-[12.5px] text-muted-foreground">
            {t('regionHint')}
          </p>
        </div>

        {failedToBegin ? (
          <>
            <Alert>
              {t('beginFailed')} {errorText(failedToBegin)}
            </Alert>
            <DialogFooter>
              <Button type="button" variant="ghost" onClick={onClose}>
                {t('close')}
              </Button>
              <Button type="button" onClick={() => restart()}>
                {t('tryAgain')}
              </Button>
            </DialogFooter>
          </>
        ) : problem ? (
          <>
            <Alert>{problem}</Alert>
            <DialogFooter>
              <Button type="button" variant="ghost" onClick={onClose}>
                {t('close')}
              </Button>
              <Button type="button" onClick={() => restart()}>
                {t('scanAgain')}
              </Button>
            </DialogFooter>
          </>
        ) : (
          <>
            <figure className="m-0 flex flex-col items-center gap-3">
              {session ? (
                // QR codes need dark modules on a light ground, whatever the theme.
                <div className="flex rounded-md border bg-white p-3 leading-none">
                  <QRCode value={session.qr_code_url} size={200} level="M" role="img" aria-label={t('qrLabel', { name: agent.name })} />
                </div>
              ) : (
                <div className="flex size-56.5 items-center justify-center rounded-md border border-dashed border-input">
                  <Spinner className="size-5" />
                </div>
              )}
              {/* The server checks the scheme when the session starts; a link is never a script. */}
              {session && /^https?:\/\//i.test(session.qr_code_url) ? (
                <figcaption className="flex items-center justify-center gap-1.5 text-[13px]">
                  <span className="text-muted-foreground">{t('openLinkHint')}</span>
                  <a href={session.qr_code_url} target="_blank" rel="noopener noreferrer" className="underline underline-offset-2">
                    {t('openLink')}
                  </a>
                </figcaption>
              ) : null}
            </figure>
            <ol className="flex list-decimal flex-col gap-1 pl-5">
              <li>{t('steps.scan')}</li>
              <li>{t('steps.approve')}</li>
              <li>{t('steps.wait')}</li>
            </ol>
            <div className="flex flex-wrap items-baseline gap-x-1 text-[13px] text-muted-foreground">
              <p role="status" aria-live="polite">
                {!session ? t('preparing') : waiting && pollError ? t('retrying') : waiting ? t('waiting') : t('finishing')}
              </p>
              {/* Outside the live region: a screen reader is not read a number every second. */}
              {waiting && secondsLeft !== null ? (
                <p role="timer" className={cn('tabular-nums', secondsLeft < 60 && 'font-medium text-warning')}>
                  {t('expiresIn', { time: clock(secondsLeft) })}
                </p>
              ) : null}
            </div>
            {session ? (
              <DialogFooter>
                <Button type="button" variant="ghost" onClick={() => restart()}>
                  {t('scanAgain')}
                </Button>
              </DialogFooter>
            ) : null}
          </>
        )}
      </DialogContent>
    </Dialog>
  );
}

/** Whole seconds until `deadline` (epoch milliseconds), kept current while any are left; null without one. */
function useSecondsLeft(deadline: number | null): number | null {
  const subscribe = useCallback(
    (onChange: () => void) => {
      if (deadline === null) return () => {};
      // Checked a few times a second so the display turns within a quarter second of the real clock.
      const timer = setInterval(() => {
        onChange();
        if (Date.now() >= deadline) clearInterval(timer);
      }, 250);
      return () => clearInterval(timer);
    },
    [deadline],
  );
  const read = () => (deadline === null ? null : Math.max(0, Math.ceil((deadline - Date.now()) / 1000)));
  return useSyncExternalStore(subscribe, read, () => null);
}

/** mm:ss, the way a countdown reads in every supported language. */
function clock(seconds: number): string {
  return `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
}
