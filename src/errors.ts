export const problemCatalog = {
  'invalid-request': { status: 400, title: 'Invalid request' },
  'unknown-profile': { status: 400, title: 'Unknown profile' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  'not-found': { status: 404, title: 'Not found' },
  'request-timeout': { status: 408, title: 'Request timeout' },
  'idempotency-in-progress': { status: 409, title: 'Request with this Idempotency-Key is still running' },
  'payload-too-large': { status: 413, title: 'Payload too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'idempotency-key-reused': { status: 422, title: 'Idempotency-Key reused with a different body' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'session-limit': { status: 429, title: 'Session limit reached' },
  'request-header-fields-too-large': { status: 431, title: 'Request header fields too large' },
  'upstream-error': { status: 502, title: 'Upstream error' },
  'upstream-unavailable': { status: 503, title: 'Upstream unavailable' },
  'not-ready': { status: 503, title: 'Service not ready' },
  'upstream-timeout': { status: 504, title: 'Upstream timeout' },
  internal: { status: 500, title: 'Internal error' },
} as const;

export type ErrorCode = keyof typeof problemCatalog;

export interface AppErrorOptions {
  cause?: unknown;
  /** Seconds for a `Retry-After` header. */
  retryAfterSeconds?: number;
  headers?: Record<string, string>;
}

/**
 * The one error type the HTTP layer turns into problem+json. `detail` is written for the caller
 * and must never contain input, upstream text or secrets; anything else belongs in `cause`.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string;
  readonly retryAfterSeconds: number | undefined;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, detail: string, options: AppErrorOptions = {}) {
    super(`${code}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = problemCatalog[code].status;
    this.detail = detail;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.headers = options.headers ?? {};
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
