import 'server-only';
import { z } from 'zod';
import { getSessionUser, trustedOrigins, type SessionUser } from '../auth/auth';
import { hasRole } from '../auth/roles';
import type { ErrorBody } from '../contract/errors';
import type { Payload } from '../contract/shared';
import { db, type Db } from '../db/client';
import type { MemberRole } from '../db/schema';
import { env } from '../env';
import { AppError, forbidden, notFound } from '../errors';
import { logger, redactUrl } from '../logger';
import { getMemberWorkspaceOrThrow, type WorkspaceRow } from '../services/workspaces';
import { controlCharacterPath, isJsonContentType, readBodyCapped } from './request-body';

type Params = Record<string, string | string[] | undefined>;
type RouteContext = { params: Promise<Params> };

export type UserContext<B, Q = undefined> = { req: Request; params: Record<string, string>; user: SessionUser; db: Db; body: B; query: Q };
export type WorkspaceContext<B, Q = undefined> = UserContext<B, Q> & { workspace: WorkspaceRow; role: MemberRole };

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (v: string) => UUID_RE.test(v);

/** The default cap on a JSON request body; routes that take long text name a larger one. */
export const JSON_BODY_LIMIT_BYTES = 64 * 1024;

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A JSON response whose body the type checker holds to a contract schema. */
export function json<S extends z.ZodType>(_schema: S, body: Payload<S>, init?: ResponseInit): Response {
  return Response.json(body, init);
}

/**
 * Typed errors answer their code and message. Anything else is logged under a fresh reference
 * and answers a generic 500 naming that reference, never the error's own text (driver messages
 * carry SQL and parameters).
 */
export function errorResponse(err: unknown, req?: Request): Response {
  if (err instanceof AppError) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.fields) body.error.fields = err.fields;
    return Response.json(body, { status: err.status });
  }
  const reference = crypto.randomUUID();
  logger().error({ err, reference, ...(req && { method: req.method, url: redactUrl(req.url) }) }, 'unhandled error in route');
  const body: ErrorBody = { error: { code: 'internal', message: `Something went wrong on our side (reference ${reference})`, reference } };
  return Response.json(body, { status: 500 });
}

const hasBearer = (headers: Headers) => /^bearer\s+\S/i.test(headers.get('authorization') ?? '');

/**
 * Cookies ride along on cross-site requests; bearer tokens never do (a page cannot set
 * Authorization on another origin without a CORS preflight, which we never grant). So a
 * cookie-authenticated write must show it comes from our own pages, and be JSON, which a form
 * cannot send.
 */
function refuseCrossSiteWrite(req: Request): void {
  const origin = req.headers.get('origin');
  const sameOrigin = origin ? trustedOrigins(env().APP_URL).includes(origin) : req.headers.get('sec-fetch-site') === 'same-origin';
  if (!sameOrigin) throw forbidden('Requests from other sites are refused');
  if (!isJsonContentType(req.headers)) throw new AppError('unsupported_media_type', 'Send the request body as application/json');
}

function tooLarge(limit: number): AppError {
  return new AppError('payload_too_large', `The request body is larger than ${Math.floor(limit / 1024)} KB`);
}

/** The body as UTF-8 text, at most `limit` bytes of it (413 beyond). */
async function readBody(req: Request, limit: number): Promise<string> {
  const bytes = await readBodyCapped(req, limit);
  if (bytes === 'too_large') throw tooLarge(limit);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AppError('bad_request', 'The request body is not valid UTF-8');
  }
}

/** Refuses control characters anywhere in parsed input, keys included, naming where. */
function refuseControlCharacters(value: unknown): void {
  const where = controlCharacterPath(value);
  if (where) throw new AppError('bad_request', `${where}: control characters are not allowed`, { [where]: 'Control characters are not allowed' });
}

function zodFields(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.join('.') || 'body';
    fields[key] ??= issue.message;
  }
  return fields;
}

async function parseBody<S extends z.ZodType>(req: Request, schema: S, limit: number): Promise<z.infer<S>> {
  let raw: unknown;
  const text = await readBody(req, limit);
  if (text.length && !isJsonContentType(req.headers)) throw new AppError('unsupported_media_type', 'Send the request body as application/json');
  try {
    raw = text.length ? JSON.parse(text) : {};
  } catch {
    throw new AppError('bad_request', 'The request body is not valid JSON');
  }
  refuseControlCharacters(raw);
  return validated(schema, raw);
}

function validated<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const fields = zodFields(parsed.error);
    throw new AppError('validation_failed', Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('; '), fields);
  }
  return parsed.data;
}

async function flatParams(ctx: RouteContext | undefined): Promise<Record<string, string>> {
  // Next resolves `params` to undefined for routes without dynamic segments.
  const raw = (ctx ? await ctx.params : undefined) ?? {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') out[k] = v;
  refuseControlCharacters(out);
  return out;
}

/** Query parameters as an object of strings (a repeated key keeps its last value). */
function parseQuery<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  const raw = Object.fromEntries(new URL(req.url).searchParams);
  refuseControlCharacters(raw);
  return validated(schema, raw);
}

type UserOptions<S extends z.ZodType | undefined, Q extends z.ZodType | undefined = undefined> = {
  body?: S;
  query?: Q;
  /** Body size cap in bytes (default JSON_BODY_LIMIT_BYTES). */
  maxBodyBytes?: number;
};
type Inferred<S> = S extends z.ZodType ? z.infer<S> : undefined;

/**
 * A route that needs a signed-in user (cookie or bearer), optionally with a validated JSON body and
 * query. Cookie-authenticated writes must come from our own origin as JSON; a request with a
 * bearer token is authenticated by that token alone, never by a cookie sent alongside it.
 */
export function withUser<S extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined>(
  opts: UserOptions<S, Q>,
  handler: (c: UserContext<Inferred<S>, Inferred<Q>>) => Promise<Response>,
) {
  return async (req: Request, ctx?: RouteContext): Promise<Response> => {
    try {
      const limit = opts.maxBodyBytes ?? JSON_BODY_LIMIT_BYTES;
      if (Number(req.headers.get('content-length') ?? 0) > limit) throw tooLarge(limit);
      const bearer = hasBearer(req.headers);
      if (STATE_CHANGING.has(req.method) && !bearer && req.headers.has('cookie')) refuseCrossSiteWrite(req);
      const sessionHeaders = new Headers(req.headers);
      if (bearer) sessionHeaders.delete('cookie');
      const user = await getSessionUser(sessionHeaders);
      if (!user) throw new AppError('unauthorized', 'Sign in to continue');
      const params = await flatParams(ctx);
      const query = (opts.query ? parseQuery(req, opts.query) : undefined) as Inferred<Q>;
      const body = (opts.body ? await parseBody(req, opts.body, limit) : undefined) as Inferred<S>;
      return await handler({ req, params, user, db: db(), body, query });
    } catch (err) {
      return errorResponse(err, req);
    }
  };
}

/**
 * A route under /api/workspaces/{id}: the caller must be a member (otherwise 404, so ids of other
 * workspaces reveal nothing) and hold at least `role` (otherwise 403).
 */
export function withWorkspace<S extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined>(
  opts: UserOptions<S, Q> & { role?: MemberRole },
  handler: (c: WorkspaceContext<Inferred<S>, Inferred<Q>>) => Promise<Response>,
) {
  return withUser({ maxBodyBytes: opts.maxBodyBytes }, async (c) => {
    const workspaceId = c.params.id;
    if (!workspaceId || !isUuid(workspaceId)) throw notFound('Workspace');
    const row = await getMemberWorkspaceOrThrow(c.db, { userId: c.user.id, workspaceId });
    if (opts.role && !hasRole(row.role, opts.role)) throw forbidden();
    // Validated after the membership and role checks, so outsiders learn nothing from a 422.
    const query = (opts.query ? parseQuery(c.req, opts.query) : undefined) as Inferred<Q>;
    const body = (opts.body ? await parseBody(c.req, opts.body, opts.maxBodyBytes ?? JSON_BODY_LIMIT_BYTES) : undefined) as Inferred<S>;
    return handler({ ...c, body, query, workspace: row.workspace, role: row.role });
  });
}

/** Reads a uuid path parameter; anything that is not a uuid cannot name a row, so it is a 404. */
export function uuidParam(params: Record<string, string>, name: string, what: string): string {
  const v = params[name];
  if (!v || !isUuid(v)) throw notFound(what);
  return v;
}
