import { SecretBox } from '../crypto/secretbox';
import { env } from '../env';
import type { LarkHostOverrides } from './api';

export type LarkIntegration = {
  /** False when LARK_SECRET_KEY is unset: install routes answer 503 and nothing is stored. */
  configured: boolean;
  box: SecretBox | null;
  hosts: LarkHostOverrides;
  httpTimeoutMs: number;
};

let cached: LarkIntegration | undefined;

export function larkIntegration(): LarkIntegration {
  if (cached) return cached;
  const e = env();
  const key = e.LARK_SECRET_KEY?.trim();
  cached = {
    configured: Boolean(key),
    box: key ? SecretBox.fromBase64(key) : null,
    hosts: { openBaseUrl: e.LARK_OPEN_BASE_URL, accountsBaseUrl: e.LARK_ACCOUNTS_BASE_URL },
    httpTimeoutMs: e.LARK_HTTP_TIMEOUT_MS,
  };
  return cached;
}

/** Tests switch configurations within one process. */
export function resetLarkIntegrationForTests(): void {
  cached = undefined;
}
