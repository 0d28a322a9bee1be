import { readBodyCapped } from '../../net/read-capped';
import { LarkNetworkError } from './errors';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export type RawRequest = {
  operation: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: string | FormData;
  timeoutMs: number;
  signal?: AbortSignal;
  fetch?: FetchLike;
};

export type RawResponse = {
  status: number;
  /** Only read with `get`: the worker's pooled fetch answers with no more than that. */
  headers: Pick<Headers, 'get'>;
  text: string;
  /** A binary body (performRequest with `binary`), read up to its cap. */
  bytes?: Buffer;
};

/**
 * How a binary answer is read: JSON bodies (Lark's errors) as text, anything else as bytes, at most
 * `maxBytes` of them (`onTooLarge` decides what to throw; the rest is never read).
 */
export type BinaryRead = { maxBytes: number; onTooLarge: (sizeBytes: number) => Error };

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

// One HTTP exchange with a per-call timeout. A caller abort rethrows the signal's reason; a timeout
// or a transport failure becomes a retryable LarkNetworkError (whose message never holds the URL's query).
export async function performRequest(request: RawRequest, binary?: BinaryRead): Promise<RawResponse> {
  throwIfAborted(request.signal);
  // One controller per call, linked by hand: long-lived caller signals would otherwise collect a
  // dependent signal per request.
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, request.timeoutMs);
  const onCallerAbort = () => controller.abort();
  request.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const doFetch = request.fetch ?? fetch;
  try {
    const response = await doFetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: controller.signal,
    });
    if (binary && !/json/i.test(response.headers.get('content-type') ?? '') && response.status < 400) {
      return { status: response.status, headers: response.headers, text: '', bytes: await readBodyCapped(response, binary.maxBytes, binary.onTooLarge) };
    }
    const text = await response.text();
    return { status: response.status, headers: response.headers, text };
  } catch (error) {
    if (request.signal?.aborted) throw abortReason(request.signal);
    if (binary && error instanceof Error && error.name === 'LarkResourceTooLargeError') throw error;
    if (timedOut) {
      throw new LarkNetworkError(request.operation, `timed out after ${request.timeoutMs} ms`, { timedOut: true });
    }
    throw new LarkNetworkError(request.operation, describeTransportError(error), { cause: error });
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', onCallerAbort);
  }
}

function describeTransportError(error: unknown): string {
  // undici wraps the useful part (ECONNREFUSED, ECONNRESET...) in `cause`.
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return `network error ${cause.code}`;
  if (error instanceof Error && error.name) return `network error ${error.name}`;
  return 'network error';
}

export function parseJsonObject(text: string): Record<string, unknown> | null {
  if (!text) return null;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
