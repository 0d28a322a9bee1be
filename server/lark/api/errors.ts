// Errors of Lark's HTTP APIs. Messages carry the operation, Lark's code and msg, never a token,
// a secret or a request body.

export type LarkErrorDetails = {
  operation: string;
  code: number;
  msg: string;
  httpStatus: number;
  logId?: string;
};

export class LarkApiError extends Error {
  readonly operation: string;
  readonly code: number;
  readonly msg: string;
  readonly httpStatus: number;
  readonly logId?: string;
  readonly retryable: boolean;

  constructor(details: LarkErrorDetails, retryable?: boolean) {
    super(`lark ${details.operation} failed: code ${details.code} (${details.msg || 'no message'}), http ${details.httpStatus}`);
    this.name = 'LarkApiError';
    this.operation = details.operation;
    this.code = details.code;
    this.msg = details.msg;
    this.httpStatus = details.httpStatus;
    this.logId = details.logId;
    this.retryable = retryable ?? details.httpStatus >= 500;
  }
}

export class LarkRateLimitError extends LarkApiError {
  readonly retryAfterMs: number;

  constructor(details: LarkErrorDetails, retryAfterMs: number) {
    super(details, true);
    this.name = 'LarkRateLimitError';
    this.retryAfterMs = retryAfterMs;
  }
}

// The app lacks a scope (e.g. contact info). Callers that can live without the data treat it as non-fatal.
export class LarkPermissionError extends LarkApiError {
  constructor(details: LarkErrorDetails) {
    super(details, false);
    this.name = 'LarkPermissionError';
  }
}

// A call refused before anything was sent: a required value is empty. Never retryable, since the
// same input fails the same way; a LarkApiError so callers that record Lark failures record it too.
export class LarkRequestError extends LarkApiError {
  readonly field: string;

  constructor(operation: string, field: string) {
    super({ operation, code: -1, msg: `${field} is empty`, httpStatus: 0 }, false);
    this.name = 'LarkRequestError';
    this.message = `lark ${operation} refused before sending: ${field} is empty`;
    this.field = field;
  }
}

// The request never produced a usable response: connection refused/reset, DNS, timeout, garbage body.
export class LarkNetworkError extends Error {
  readonly operation: string;
  readonly retryable = true;
  readonly timedOut: boolean;

  constructor(operation: string, reason: string, options: { timedOut?: boolean; cause?: unknown } = {}) {
    super(`lark ${operation} failed: ${reason}`, { cause: options.cause });
    this.name = 'LarkNetworkError';
    this.operation = operation;
    this.timedOut = options.timedOut ?? false;
  }
}

// A resource larger than the caller accepts: the download stopped there. `sizeBytes` is what Lark
// announced (Content-Length) or, without that, how far the download got before it stopped.
export class LarkResourceTooLargeError extends Error {
  constructor(
    readonly operation: string,
    readonly sizeBytes: number,
    readonly limitBytes: number,
  ) {
    super(`lark ${operation} stopped: the resource is larger than ${limitBytes} bytes`);
    this.name = 'LarkResourceTooLargeError';
  }
}

export const TOKEN_INVALID_CODES: ReadonlySet<number> = new Set([99991663, 99991664, 99991671]);
export const RATE_LIMIT_CODES: ReadonlySet<number> = new Set([99991400]);
// 99991672: app scope missing; 99991679: user-granted scope missing; 41050: no authority over the user.
export const PERMISSION_CODES: ReadonlySet<number> = new Set([99991672, 99991679, 41050]);

export function isRetryableLarkError(error: unknown): boolean {
  return (error instanceof LarkApiError || error instanceof LarkNetworkError) && error.retryable;
}
