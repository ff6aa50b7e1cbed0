/**
 * Every problem the broker answers, declared once: the error handler, the OpenAPI document and the
 * README's error table all read it. `when` is written for the README; `retryAfterSeconds`, where
 * present, means every error of that code carries `Retry-After` (this many seconds unless the
 * thrower knows better); `headers` are sent with every error of that code.
 */
export const problemCatalog = {
  'invalid-request': {
    status: 400,
    title: 'Invalid request',
    when: "malformed JSON, a JSON primitive or array, a schema violation, an unknown key, a bad `Idempotency-Key` or `limit`; a compressed body that does not decode; a body the client stopped sending; a request Node's HTTP parser rejects (bad request line or header)",
  },
  'unknown-profile': {
    status: 400,
    title: 'Unknown profile',
    when: '`profile` names no configured profile',
  },
  unauthenticated: {
    status: 401,
    title: 'Authentication required',
    when: 'missing, invalid or expired JWT; also `/metrics` without `METRICS_TOKEN` and `/admin` without `ADMIN_TOKEN`',
    headers: { 'WWW-Authenticate': 'Bearer' },
  },
  forbidden: {
    status: 403,
    title: 'Forbidden',
    when: 'a valid JWT without a valid tenant claim while `AUTH_TENANT_CLAIM` is set; a CORS preflight from an origin that is not in `CORS_ORIGINS` (answered without CORS headers, so the browser reports a CORS error; the network tab shows this answer)',
  },
  'not-found': {
    status: 404,
    title: 'Not found',
    when: 'unknown route (the `/admin` routes too, without `ADMIN_TOKEN`); unknown, malformed or foreign session id',
  },
  'request-timeout': {
    status: 408,
    title: 'Request timeout',
    when: 'the request line, headers or body did not arrive in time (Node answers it before any route)',
  },
  'idempotency-in-progress': {
    status: 409,
    title: 'Request with this Idempotency-Key is still running',
    when: 'the same `Idempotency-Key` is still running',
    retryAfterSeconds: 1,
  },
  'payload-too-large': {
    status: 413,
    title: 'Payload too large',
    when: 'body over 4 KiB: by `Content-Length` (answered at once, before the body arrives, and the connection is closed), chunked, or after decompression',
  },
  'unsupported-media-type': {
    status: 415,
    title: 'Unsupported media type',
    when: 'a body that is not `application/json`, a charset other than UTF-8, or a `Content-Encoding` other than gzip, deflate, br (the answer lists those in `Accept-Encoding`)',
  },
  'idempotency-key-reused': {
    status: 422,
    title: 'Idempotency-Key reused with a different body',
    when: 'the same key with a different body; or the answer kept under the key was damaged in the store and cannot be read (use a new key)',
  },
  'rate-limited': {
    status: 429,
    title: 'Too many requests',
    when: 'request rate over a limit; with `RateLimit` and `RateLimit-Policy`',
    retryAfterSeconds: 60,
  },
  'session-limit': {
    status: 429,
    title: 'Session limit reached',
    when: "a concurrency cap reached: the user's (policy `reject`), the tenant's or the global one",
    retryAfterSeconds: 5,
  },
  'budget-exhausted': {
    status: 429,
    title: 'Minute budget exhausted',
    when: 'less than 60 s left of a minute budget; `Retry-After` (until the window resets), and the members `scope` (`user`, `tenant`, `service`) and `window` (`day`, `month`)',
    retryAfterSeconds: 60,
  },
  'request-header-fields-too-large': {
    status: 431,
    title: 'Request header fields too large',
    when: "the request headers are over Node's limit (answered before any route)",
  },
  'upstream-error': {
    status: 502,
    title: 'Upstream error',
    when: 'an upstream answered something unusable: a 4xx we cannot fix (bad key, 422), a redirect, a bad shape, an oversized body',
  },
  'upstream-unavailable': {
    status: 503,
    title: 'Upstream unavailable',
    when: 'an upstream answered 429/5xx or could not be reached, its circuit is open, or the JWKS endpoint is down',
    retryAfterSeconds: 5,
  },
  'not-ready': {
    status: 503,
    title: 'Service not ready',
    when: 'draining for shutdown, or the store (Redis) is unreachable',
    retryAfterSeconds: 5,
  },
  'upstream-timeout': {
    status: 504,
    title: 'Upstream timeout',
    when: 'an upstream did not answer within `UPSTREAM_TIMEOUT_MS`, or the whole create passed `SESSION_CREATE_DEADLINE_MS`',
  },
  internal: { status: 500, title: 'Internal error', when: 'anything else (a bug); details only in the log' },
} as const satisfies Record<string, ProblemKind>;

export interface ProblemKind {
  status: number;
  title: string;
  when: string;
  retryAfterSeconds?: number;
  headers?: Record<string, string>;
}

/** Members a problem may carry beyond the standard ones (RFC 9457 extension members). */
export interface ProblemExtensions {
  scope?: 'user' | 'tenant' | 'service';
  window?: 'day' | 'month';
}

export type ErrorCode = keyof typeof problemCatalog;

export interface AppErrorOptions {
  cause?: unknown;
  /** Seconds for a `Retry-After` header (the code's default when it has one). */
  retryAfterSeconds?: number;
  headers?: Record<string, string>;
  extensions?: ProblemExtensions;
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
  readonly extensions: ProblemExtensions;

  constructor(code: ErrorCode, detail: string, options: AppErrorOptions = {}) {
    super(`${code}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = problemCatalog[code].status;
    this.detail = detail;
    const kind: ProblemKind = problemCatalog[code];
    this.retryAfterSeconds = options.retryAfterSeconds ?? kind.retryAfterSeconds;
    this.headers = { ...kind.headers, ...options.headers };
    this.extensions = options.extensions ?? {};
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
