import 'server-only';
import { env } from '../env';
import { SecretBox, SecretBoxError } from './secretbox';

let cached: { key: string; box: SecretBox } | undefined;

/**
 * The box that seals secrets at rest, keyed by LARK_SECRET_KEY (the same key as the Lark app
 * secrets), or null when the server has none.
 */
export function configuredSecretBox(): SecretBox | null {
  const key = env().LARK_SECRET_KEY?.trim();
  if (!key) return null;
  if (cached?.key !== key) cached = { key, box: SecretBox.fromBase64(key) };
  return cached.box;
}

/** The origin (scheme, host, port) a model key belongs to: it is only ever sent there. */
export function endpointOrigin(baseUrl: string): string {
  return new URL(baseUrl).origin;
}

export class ModelKeyError extends Error {}

/**
 * Seals a model API key together with the origin it was entered for, so a key copied to another
 * endpoint (a base URL changed behind the API's back) refuses to open.
 */
export function sealModelKey(box: SecretBox, input: { baseUrl: string; apiKey: string }): string {
  return box.seal(JSON.stringify({ origin: endpointOrigin(input.baseUrl), key: input.apiKey }));
}

/** Opens a sealed model key for the endpoint about to be called; throws ModelKeyError otherwise. */
export function openModelKey(box: SecretBox, sealed: string, baseUrl: string): string {
  let payload: { origin?: unknown; key?: unknown };
  try {
    payload = JSON.parse(box.open(sealed)) as typeof payload;
  } catch (err) {
    throw new ModelKeyError(err instanceof SecretBoxError ? err.message : 'The sealed model key is malformed');
  }
  if (typeof payload.key !== 'string' || payload.origin !== endpointOrigin(baseUrl)) {
    throw new ModelKeyError('The model key was entered for another endpoint');
  }
  return payload.key;
}
