import { z } from 'zod';

// The one list of error codes the API answers with; the UI translates each through `errors.<code>`.
export const errorCodes = [
  'bad_request',
  'validation_failed',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'gone',
  'rate_limited',
  'quota_exceeded',
  'payload_too_large',
  'unsupported_media_type',
  'not_configured',
  'upstream_unavailable',
  'agent_offline',
  'agent_archived',
  'internal',
] as const;
export const errorCodeSchema = z.enum(errorCodes);
export type ErrorCode = z.infer<typeof errorCodeSchema>;

export const errorStatus = {
  bad_request: 400,
  validation_failed: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  rate_limited: 429,
  quota_exceeded: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_configured: 503,
  upstream_unavailable: 502,
  agent_offline: 409,
  agent_archived: 409,
  internal: 500,
} as const satisfies Record<ErrorCode, number>;

/**
 * The code for a status when a body names none (a proxy's 502, say): the first code listed with
 * that status, so 409 reads as `conflict` rather than one of the agent states that share it.
 */
export function errorCodeForStatus(status: number): ErrorCode {
  return errorCodes.find((code) => errorStatus[code] === status) ?? 'internal';
}

/**
 * `fields` maps an input path (`runtime.api_key`) to what is wrong with it; `reference` names the
 * server's log line for an unexpected failure, for support to find it.
 */
export const errorBodySchema = z.object({
  error: z.object({
    code: errorCodeSchema,
    message: z.string(),
    fields: z.record(z.string(), z.string()).optional(),
    reference: z.string().optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;
