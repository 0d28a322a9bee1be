import type { Logger } from 'pino';
import type { Db } from '../../db/client';
import type { PgListener } from '../../db/listen';
import { LARK_REGISTRATION_CHANNEL } from '../../events';
import {
  LarkApiError,
  LarkHttpClient,
  LarkNetworkError,
  LarkPermissionError,
  LarkRegistrationError,
  pollRegistrationOnce,
  type FetchLike,
  type LarkRegion,
} from '../api';
import type { LarkIntegration } from '../integration';
import {
  claimDueRegistrations,
  completeRegistration,
  failRegistration,
  newPollerToken,
  RegistrationFinishError,
  schedulePoll,
  type RegistrationSessionRow,
} from './registration-sessions';
import { Wakeup } from '../../async/abortable';

export type RegistrationPollerOptions = {
  db: Db;
  integration: LarkIntegration;
  logger: Logger;
  tickMs: number;
  fetch?: FetchLike;
  batchSize?: number;
};

const REASON_FOR_LARK_ERROR: Record<string, 'access_denied' | 'expired'> = { access_denied: 'access_denied', expired_token: 'expired' };

/** Drives one claimed session one step (or to its end). Exported for tests that step it by hand. */
export async function pollRegistrationSession(opts: RegistrationPollerOptions, session: RegistrationSessionRow): Promise<void> {
  const log = opts.logger.child({ registrationSessionId: session.id, workspaceId: session.workspaceId });
  const box = opts.integration.box;
  if (!box) return;
  if (session.expiresAt.getTime() <= Date.now()) {
    await failRegistration(opts.db, session, 'expired', 'The QR code expired before it was approved; scan again');
    return;
  }
  let deviceCode: string;
  try {
    deviceCode = box.open(session.deviceCodeCiphertext);
  } catch {
    await failRegistration(opts.db, session, 'internal_error', 'The install session could not be read on this server; start again');
    return;
  }
  let brand: LarkRegion = session.region;
  let brandSwitched = session.brandSwitched;
  const clientOptions = { hosts: opts.integration.hosts, fetch: opts.fetch, requestTimeoutMs: opts.integration.httpTimeoutMs, logger: log };
  // At most two polls: the second only right after a brand switch, with the same device code.
  for (let attempt = 0; attempt < 2; attempt++) {
    let result;
    try {
      result = await pollRegistrationOnce({ deviceCode, brand, intervalSeconds: session.intervalSeconds, brandSwitched }, clientOptions);
    } catch (err) {
      if (err instanceof LarkRegistrationError) {
        await failRegistration(opts.db, session, 'lark_protocol_error', `Lark answered the registration poll unexpectedly (${err.code})`);
        return;
      }
      // Transport trouble is retried at the next interval until the session expires.
      log.warn({ err, network: err instanceof LarkNetworkError }, 'registration poll failed; will retry');
      await schedulePoll(opts.db, session, { intervalSeconds: session.intervalSeconds, region: brand, brandSwitched });
      return;
    }
    if (result.status === 'pending') {
      await schedulePoll(opts.db, session, { intervalSeconds: result.intervalSeconds, region: brand, brandSwitched });
      return;
    }
    if (result.status === 'switch_brand') {
      brand = result.brand;
      brandSwitched = true;
      continue;
    }
    if (result.status === 'failed') {
      const reason = REASON_FOR_LARK_ERROR[result.error] ?? 'lark_protocol_error';
      const message =
        reason === 'access_denied'
          ? 'The install was declined in Lark'
          : reason === 'expired'
            ? 'The QR code expired before it was approved; scan again'
            : `Lark ended the registration: ${result.error}`;
      await failRegistration(opts.db, session, reason, message);
      return;
    }
    await finishSuccess(opts, session, log, result);
    return;
  }
  await failRegistration(opts.db, session, 'lark_protocol_error', 'Lark kept switching between Feishu and Lark during registration');
}

async function finishSuccess(
  opts: RegistrationPollerOptions,
  session: RegistrationSessionRow,
  log: Logger,
  result: { clientId: string; clientSecret: string; openId: string | null; brand: LarkRegion },
) {
  const client = new LarkHttpClient({
    appId: result.clientId,
    appSecret: result.clientSecret,
    region: result.brand,
    hosts: opts.integration.hosts,
    fetch: opts.fetch,
    requestTimeoutMs: opts.integration.httpTimeoutMs,
    logger: log,
  });
  let botOpenId: string;
  try {
    botOpenId = (await client.getBotInfo()).openId;
  } catch (err) {
    const detail = err instanceof LarkApiError ? ` (code ${err.code})` : '';
    await failRegistration(opts.db, session, 'bot_info_failed', `The bot was created but Lark did not return its identity${detail}; scan again`);
    return;
  }
  // union_id routes group @-mentions reliably; without the contact scope we fall back to open_id.
  let botUnionId: string | null = null;
  try {
    botUnionId = (await client.getUser(botOpenId)).unionId ?? null;
  } catch (err) {
    log.warn({ permissionDenied: err instanceof LarkPermissionError }, 'could not read the bot union_id; continuing without it');
  }
  try {
    const installationId = await completeRegistration(opts.db, session, {
      appId: result.clientId,
      appSecretCiphertext: opts.integration.box!.seal(result.clientSecret),
      region: result.brand,
      botOpenId,
      botUnionId,
      installerOpenId: result.openId,
    });
    if (installationId) log.info({ installationId, appId: result.clientId, region: result.brand }, 'lark bot installed');
  } catch (err) {
    if (err instanceof RegistrationFinishError) {
      await failRegistration(opts.db, session, err.reason, err.message);
      return;
    }
    log.error({ err }, 'finishing a registration failed');
    await failRegistration(opts.db, session, 'internal_error', 'Something went wrong while saving the new bot; scan again');
  }
}

/** One pass: claim due sessions and step each of them. Returns how many were handled. */
export async function pollDueRegistrations(opts: RegistrationPollerOptions): Promise<number> {
  const sessions = await claimDueRegistrations(opts.db, { pollerToken: newPollerToken(), limit: opts.batchSize ?? 20 });
  await Promise.all(sessions.map((s) => pollRegistrationSession(opts, s).catch((err) => opts.logger.error({ err }, 'registration step failed'))));
  return sessions.length;
}

/** Polls pending device-flow sessions until the signal aborts; wakes at once when one is started. */
export async function runRegistrationPoller(opts: RegistrationPollerOptions & { listener: PgListener }, signal: AbortSignal): Promise<void> {
  if (!opts.integration.configured) return;
  const wakeup = new Wakeup();
  const unsubscribe = opts.listener.subscribe(LARK_REGISTRATION_CHANNEL, { onNotify: () => wakeup.notify(), onResync: () => wakeup.notify() });
  try {
    while (!signal.aborted) {
      const handled = await pollDueRegistrations(opts).catch((err) => {
        opts.logger.error({ err }, 'registration pass failed');
        return 0;
      });
      if (handled === 0) await wakeup.wait(opts.tickMs, signal);
    }
  } finally {
    unsubscribe();
  }
}
