// One typed error base for everything a caller may want to show a user. Internal failures stay
// plain Errors and become a generic 500 at the HTTP edge.
export const errorStatus = {
  bad_request: 400,
  validation_failed: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  rate_limited: 429,
  not_configured: 503,
  upstream_unavailable: 502,
  agent_offline: 409,
  agent_archived: 409,
  internal: 500,
} as const;

export type AppErrorCode = keyof typeof errorStatus;

export class AppError extends Error {
  readonly code: AppErrorCode;
  readonly fields?: Record<string, string>;

  constructor(code: AppErrorCode, message: string, fields?: Record<string, string>) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.fields = fields;
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const forbidden = (message = 'You do not have permission to do this') => new AppError('forbidden', message);
export const conflict = (message: string) => new AppError('conflict', message);
export const validationFailed = (fields: Record<string, string>) =>
  new AppError('validation_failed', Object.values(fields)[0] ?? 'Invalid input', fields);
