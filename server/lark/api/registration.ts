import type { Logger } from 'pino';
import { logger as rootLogger } from '@/server/logger';
import { LARK_DEFAULTS } from '../defaults';
import { accountsBaseUrlFor, isLarkRegion, otherRegion, type LarkHostOverrides, type LarkRegion } from './hosts';
import { parseJsonObject, performRequest, type FetchLike } from './request';

// Lark's device-flow app registration ("scan to create a bot"), RFC 8628 style.

const REGISTRATION_DEFAULTS = LARK_DEFAULTS.registration;

const REGISTRATION_PATH = '/oauth/v1/app/registration';
const PRODUCT_NAME = 'Larkspur';
const SOURCE_TAG = 'larkspur';

export type RegistrationClientOptions = {
  hosts?: LarkHostOverrides;
  fetch?: FetchLike;
  requestTimeoutMs?: number;
  signal?: AbortSignal;
  logger?: Logger;
};

export type RegistrationBegin = {
  brand: LarkRegion;
  deviceCode: string;
  userCode: string | null;
  verificationUri: string | null;
  verificationUriComplete: string;
  intervalSeconds: number;
  expiresInSeconds: number;
};

export type RegistrationPollInput = {
  deviceCode: string;
  brand: LarkRegion;
  intervalSeconds: number;
  // Set once the caller has followed a brand switch: a second mismatch is not followed again.
  brandSwitched?: boolean;
};

export type RegistrationSuccess = {
  status: 'success';
  clientId: string;
  clientSecret: string;
  openId: string | null;
  brand: LarkRegion;
};

export type RegistrationFailure = { status: 'failed'; error: string; description: string | null };

export type RegistrationPollResult =
  | { status: 'pending'; intervalSeconds: number }
  // Poll `brand`'s accounts host again right away with the same device_code; credentials were ignored.
  | { status: 'switch_brand'; brand: LarkRegion; intervalSeconds: number }
  | RegistrationSuccess
  | RegistrationFailure;

// The registration endpoint answered with something that is not the protocol (e.g. a proxy's HTML page).
export class LarkRegistrationError extends Error {
  readonly code: string;
  readonly httpStatus: number;

  constructor(code: string, httpStatus: number, message: string) {
    super(message);
    this.name = 'LarkRegistrationError';
    this.code = code;
    this.httpStatus = httpStatus;
  }
}

function positiveNumber(value: unknown): number | undefined {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) && number > 0 ? number : undefined;
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

async function postRegistrationForm(
  operation: string,
  brand: LarkRegion,
  form: Record<string, string>,
  options: RegistrationClientOptions,
): Promise<Record<string, unknown>> {
  const response = await performRequest({
    operation,
    method: 'POST',
    url: `${accountsBaseUrlFor(brand, options.hosts)}${REGISTRATION_PATH}`,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
    timeoutMs: options.requestTimeoutMs ?? REGISTRATION_DEFAULTS.requestTimeoutMs,
    signal: options.signal,
    fetch: options.fetch,
  });
  // RFC 8628 replies (authorization_pending, slow_down, ...) come with HTTP 400: parse the body whatever the status.
  const body = parseJsonObject(response.text);
  if (body) return body;
  if (response.status < 200 || response.status >= 300) {
    throw new LarkRegistrationError(`http_${response.status}`, response.status, `lark ${operation} failed: unparseable http ${response.status} response`);
  }
  throw new LarkRegistrationError('invalid_response', response.status, `lark ${operation} failed: unparseable response`);
}

export async function beginRegistration(brand: LarkRegion, options: RegistrationClientOptions = {}): Promise<RegistrationBegin> {
  const body = await postRegistrationForm('registration.begin', brand, {
    action: 'begin',
    archetype: 'PersonalAgent',
    auth_method: 'client_secret',
    request_user_info: 'open_id',
  }, options);
  const error = nonEmptyString(body.error);
  if (error) throw new LarkRegistrationError(error, 0, `lark registration.begin failed: ${error}`);
  const deviceCode = nonEmptyString(body.device_code);
  const verificationUriComplete = nonEmptyString(body.verification_uri_complete) ?? nonEmptyString(body.verification_uri);
  if (!deviceCode || !verificationUriComplete) {
    throw new LarkRegistrationError('invalid_response', 0, 'lark registration.begin failed: missing device_code or verification uri');
  }
  return {
    brand,
    deviceCode,
    userCode: nonEmptyString(body.user_code),
    verificationUri: nonEmptyString(body.verification_uri),
    verificationUriComplete,
    intervalSeconds: positiveNumber(body.interval) ?? REGISTRATION_DEFAULTS.intervalSeconds,
    // Some servers spell it `expire_in`.
    expiresInSeconds: positiveNumber(body.expires_in) ?? positiveNumber(body.expire_in) ?? REGISTRATION_DEFAULTS.expiresInSeconds,
  };
}

// One poll, stateless apart from its input, so a worker can drive sessions stored in the database.
export async function pollRegistrationOnce(
  input: RegistrationPollInput,
  options: RegistrationClientOptions = {},
): Promise<RegistrationPollResult> {
  const log = (options.logger ?? rootLogger()).child({ component: 'lark-registration', brand: input.brand });
  const body = await postRegistrationForm('registration.poll', input.brand, { action: 'poll', device_code: input.deviceCode }, options);
  const intervalSeconds = positiveNumber(input.intervalSeconds) ?? REGISTRATION_DEFAULTS.intervalSeconds;

  const userInfo = body.user_info !== null && typeof body.user_info === 'object' ? (body.user_info as Record<string, unknown>) : {};
  const tenantBrand = userInfo.tenant_brand;
  if (isLarkRegion(tenantBrand) && tenantBrand !== input.brand) {
    if (!input.brandSwitched) {
      log.info({ tenantBrand }, 'registration belongs to the other brand; switching accounts host');
      return { status: 'switch_brand', brand: otherRegion(input.brand), intervalSeconds };
    }
    log.warn({ tenantBrand }, 'second brand mismatch after a switch; keeping the brand that answered');
  }

  const clientId = nonEmptyString(body.client_id);
  const clientSecret = nonEmptyString(body.client_secret);
  if (clientId && clientSecret) {
    return { status: 'success', clientId, clientSecret, openId: nonEmptyString(userInfo.open_id), brand: input.brand };
  }

  const error = nonEmptyString(body.error);
  if (!error || error === 'authorization_pending') return { status: 'pending', intervalSeconds };
  if (error === 'slow_down') {
    return { status: 'pending', intervalSeconds: intervalSeconds + REGISTRATION_DEFAULTS.slowDownStepSeconds };
  }
  return { status: 'failed', error, description: nonEmptyString(body.error_description) };
}

// The QR code's URL: Lark's verification link plus the SDK markers and a default bot name the user
// can still edit (there is no API to rename the bot afterwards).
export function decorateQrUrl(verificationUriComplete: string, agentName: string): string {
  const url = new URL(verificationUriComplete);
  url.searchParams.set('from', 'sdk');
  url.searchParams.set('tp', 'sdk');
  url.searchParams.set('source', SOURCE_TAG);
  const trimmed = agentName.trim();
  url.searchParams.set('name', trimmed ? `${trimmed} - ${PRODUCT_NAME}` : PRODUCT_NAME);
  return url.toString();
}
