/** Fetches a path below one service: the running app or simulator, or route handlers in tests. */
export type HttpFetch = (path: string, init?: RequestInit) => Promise<Response>;

export function baseUrlFetch(baseUrl: string): HttpFetch {
  return (path, init) => fetch(new URL(path, baseUrl), init);
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what} answered ${status}: ${JSON.stringify(body)?.slice(0, 500)}`);
  }
}

export type JsonRequest = {
  method?: string;
  body?: unknown;
  /** A bearer token for the app's JSON API. */
  token?: string;
  headers?: Record<string, string>;
};

/** Sends a JSON request and parses the answer; any status outside 2xx throws an HttpError. */
export async function requestJson<T>(send: HttpFetch, path: string, req: JsonRequest = {}): Promise<{ body: T; headers: Headers }> {
  const method = req.method ?? (req.body === undefined ? 'GET' : 'POST');
  const headers: Record<string, string> = { ...req.headers };
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  if (req.token) headers.authorization = `Bearer ${req.token}`;
  const res = await send(path, { method, headers, body: req.body === undefined ? undefined : JSON.stringify(req.body) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (e.g. an HTML error page): keep the text for the error message.
  }
  if (!res.ok) throw new HttpError(res.status, body, `${method} ${path}`);
  return { body: body as T, headers: res.headers };
}
