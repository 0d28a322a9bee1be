import { errorStatus, type ErrorCode } from './contract/errors';

// One typed error base for everything a caller may want to show a user. Internal failures stay
// plain Errors and become a generic 500 at the HTTP edge.
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly fields?: Record<string, string>;

  constructor(code: ErrorCode, message: string, fields?: Record<string, string>) {
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
