import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { newLogId } from './ids';

export const defaultMaxBodyBytes = 2 * 1024 * 1024;

export class BodyTooLargeError extends Error {
  constructor(readonly size: number) {
    super('request body too large');
  }
}

/**
 * Reads a request body of at most `maxBytes`. A larger one is read to its end and dropped (so the
 * client gets the answer instead of a reset connection), then BodyTooLargeError carries its size.
 */
export async function readBody(req: IncomingMessage, maxBytes = defaultMaxBodyBytes): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= maxBytes) chunks.push(chunk as Buffer);
    else chunks.length = 0;
  }
  if (size > maxBytes) throw new BodyTooLargeError(size);
  return Buffer.concat(chunks);
}

/** A handler's answer, written by the server in one place. */
export type Reply = {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** A binary body streamed as it is produced (downloads of any size); `body` is then ignored. */
  stream?: Readable;
};

export function json(status: number, body: unknown, headers?: Record<string, string>): Reply {
  return { status, body, headers };
}

export function writeReply(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { 'x-tt-logid': newLogId(), ...reply.headers };
  if (reply.stream) {
    const stream = reply.stream;
    res.writeHead(reply.status, headers);
    stream.on('error', () => res.destroy());
    res.on('close', () => stream.destroy());
    stream.pipe(res);
    return;
  }
  if (reply.body === undefined) {
    res.writeHead(reply.status, headers).end();
    return;
  }
  if (typeof reply.body === 'string' || Buffer.isBuffer(reply.body)) {
    const length = String(Buffer.byteLength(reply.body));
    res.writeHead(reply.status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': length, ...headers }).end(reply.body);
    return;
  }
  res
    .writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...headers })
    .end(JSON.stringify(reply.body));
}

/** Parses a JSON object body; undefined when the body is not a JSON object. */
export function parseJsonObject(body: Buffer): Record<string, unknown> | undefined {
  if (body.length === 0) return undefined;
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

// Every request is matched against every route: patterns are split once, and a path once per request.
const patternSegments = new Map<string, string[]>();
let lastPath = '';
let lastPathSegments = [''];

/** Matches `/a/:b/c` patterns; returns the named segments or undefined. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  let want = patternSegments.get(pattern);
  if (!want) {
    want = pattern.split('/');
    patternSegments.set(pattern, want);
  }
  if (path !== lastPath) {
    lastPath = path;
    lastPathSegments = path.split('/');
  }
  const got = lastPathSegments;
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) {
      if (!got[i]) return undefined;
      params[want[i].slice(1)] = decodeURIComponent(got[i]);
    } else if (want[i] !== got[i]) {
      return undefined;
    }
  }
  return params;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
