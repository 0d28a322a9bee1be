// Same-origin JSON calls to the API; failures become ApiError with the server's code and fields.
import type { z } from 'zod';
import { errorCodeForStatus } from '@/server/contract/errors';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: Record<string, string>;

  constructor(status: number, code: string, message: string, fields: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

// Read leniently: a body from a newer server or from a proxy may not match the contract.
type LooseErrorBody = { error?: { code?: unknown; message?: unknown; fields?: unknown } };

function toApiError(status: number, body: unknown): ApiError {
  const error = (body as LooseErrorBody | null)?.error;
  const code = typeof error?.code === 'string' ? error.code : errorCodeForStatus(status);
  const message = typeof error?.message === 'string' ? error.message : '';
  const fields: Record<string, string> = {};
  if (error?.fields && typeof error.fields === 'object') {
    for (const [k, v] of Object.entries(error.fields as Record<string, unknown>)) if (typeof v === 'string') fields[k] = v;
  }
  return new ApiError(status, code, message, fields);
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

type CallOptions<Req extends z.ZodType | undefined, Res extends z.ZodType | undefined> = {
  method?: Method;
  signal?: AbortSignal;
  /** The route's input schema from server/contract: `body` must be something it accepts. */
  request?: Req;
  body?: Req extends z.ZodType ? z.input<Req> : never;
  /**
   * The route's response schema from server/contract. It types the result; the body is not
   * validated again here, so a newer server's additions reach the UI unchanged.
   */
  response?: Res;
};

type Result<Res> = Res extends z.ZodType ? z.infer<Res> : unknown;

export async function api<Res extends z.ZodType | undefined = undefined, Req extends z.ZodType | undefined = undefined>(
  path: string,
  options: CallOptions<Req, Res> = {},
): Promise<Result<Res>> {
  let res: Response;
  try {
    const method = options.method ?? 'GET';
    res = await fetch(path, {
      method,
      // The server takes writes only as JSON, body or not: a cross-site form cannot send that type.
      headers: method === 'GET' ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: options.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', err instanceof Error ? err.message : 'Network error');
  }
  if (res.status === 204) return undefined as Result<Res>;
  const text = await res.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (!res.ok) throw toApiError(res.status, body);
  return body as Result<Res>;
}

export const isApiError = (err: unknown): err is ApiError => err instanceof ApiError;
