import 'server-only';
import { z } from 'zod';
import { getSessionUser, type SessionUser } from '../auth/auth';
import { hasRole } from '../auth/roles';
import type { ErrorBody } from '../contract/errors';
import type { Payload } from '../contract/shared';
import { db, type Db } from '../db/client';
import type { MemberRole } from '../db/schema';
import { AppError, forbidden, notFound } from '../errors';
import { logger } from '../logger';
import { getMemberWorkspaceOrThrow, type WorkspaceRow } from '../services/workspaces';

type Params = Record<string, string | string[] | undefined>;
type RouteContext = { params: Promise<Params> };

export type UserContext<B, Q = undefined> = { req: Request; params: Record<string, string>; user: SessionUser; db: Db; body: B; query: Q };
export type WorkspaceContext<B, Q = undefined> = UserContext<B, Q> & { workspace: WorkspaceRow; role: MemberRole };

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (v: string) => UUID_RE.test(v);

/** A JSON response whose body the type checker holds to a contract schema. */
export function json<S extends z.ZodType>(_schema: S, body: Payload<S>, init?: ResponseInit): Response {
  return Response.json(body, init);
}

export function errorResponse(err: unknown): Response {
  if (err instanceof AppError) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.fields) body.error.fields = err.fields;
    return Response.json(body, { status: err.status });
  }
  // Message, code and stack only: driver errors carry row values in their detail fields.
  const e = err instanceof Error ? err : new Error(String(err));
  logger().error({ err: { name: e.name, message: e.message, code: (e as { code?: unknown }).code, stack: e.stack } }, 'unhandled error in route');
  const body: ErrorBody = { error: { code: 'internal', message: 'Something went wrong on our side' } };
  return Response.json(body, { status: 500 });
}

function zodFields(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.join('.') || 'body';
    fields[key] ??= issue.message;
  }
  return fields;
}

async function parseBody<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
  let raw: unknown;
  const text = await req.text();
  try {
    raw = text.length ? JSON.parse(text) : {};
  } catch {
    throw new AppError('bad_request', 'The request body is not valid JSON');
  }
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
  return out;
}

/** Query parameters as an object of strings (a repeated key keeps its last value). */
function parseQuery<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  return validated(schema, Object.fromEntries(new URL(req.url).searchParams));
}

type UserOptions<S extends z.ZodType | undefined, Q extends z.ZodType | undefined = undefined> = { body?: S; query?: Q };
type Inferred<S> = S extends z.ZodType ? z.infer<S> : undefined;

/** A route that needs a signed-in user (cookie or bearer), optionally with a validated JSON body and query. */
export function withUser<S extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined>(
  opts: UserOptions<S, Q>,
  handler: (c: UserContext<Inferred<S>, Inferred<Q>>) => Promise<Response>,
) {
  return async (req: Request, ctx?: RouteContext): Promise<Response> => {
    try {
      const user = await getSessionUser(req.headers);
      if (!user) throw new AppError('unauthorized', 'Sign in to continue');
      const params = await flatParams(ctx);
      const query = (opts.query ? parseQuery(req, opts.query) : undefined) as Inferred<Q>;
      const body = (opts.body ? await parseBody(req, opts.body) : undefined) as Inferred<S>;
      return await handler({ req, params, user, db: db(), body, query });
    } catch (err) {
      return errorResponse(err);
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
  return withUser({}, async (c) => {
    const workspaceId = c.params.id;
    if (!workspaceId || !isUuid(workspaceId)) throw notFound('Workspace');
    const row = await getMemberWorkspaceOrThrow(c.db, { userId: c.user.id, workspaceId });
    if (opts.role && !hasRole(row.role, opts.role)) throw forbidden();
    // Validated after the membership and role checks, so outsiders learn nothing from a 422.
    const query = (opts.query ? parseQuery(c.req, opts.query) : undefined) as Inferred<Q>;
    const body = (opts.body ? await parseBody(c.req, opts.body) : undefined) as Inferred<S>;
    return handler({ ...c, body, query, workspace: row.workspace, role: row.role });
  });
}

/** Reads a uuid path parameter; anything that is not a uuid cannot name a row, so it is a 404. */
export function uuidParam(params: Record<string, string>, name: string, what: string): string {
  const v = params[name];
  if (!v || !isUuid(v)) throw notFound(what);
  return v;
}
