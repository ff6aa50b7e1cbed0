import { z } from 'zod';
import { problemCatalog, type ErrorCode } from '../errors';
import { sessionIdPattern } from '../upstreams/session-id';
import {
  adminSessionsFilter,
  adminSessionsLimit,
  createSessionBody,
  idempotencyKey,
  limitsPatch,
  sessionId,
  tenantId,
  usageQuery,
  userId,
} from './schemas';
import {
  adminSessionList,
  callerLimits,
  createdSession,
  effectiveLimits,
  usageReport,
  liveness,
  openApiDocumentBody,
  readiness,
  sessionList,
  terminatedCount,
} from './schemas-responses';

/**
 * The one table of routes: what each accepts, answers, and which problem codes each status can
 * carry. The OpenAPI document and the README's route table are generated from it, and the tests
 * check every answer the app gives against the document and every route the app has against it.
 */

/** Response headers the broker documents, with what their values look like. */
export const HEADERS = {
  'X-Request-Id': {
    description: "The request's id: a well-formed inbound `X-Request-Id` is kept, otherwise a new UUID.",
    schema: z.string().min(1),
  },
  'Cache-Control': { description: 'Answers are never cached.', schema: z.literal('no-store') },
  Location: {
    description: 'The new session.',
    schema: z.string().regex(new RegExp(`^/session/${sessionIdPattern.source.slice(1)}`)),
  },
  'Idempotent-Replayed': {
    description:
      'Present when this is the stored answer to an earlier request with the same `Idempotency-Key`.',
    schema: z.literal('true'),
  },
  'Retry-After': {
    description: 'Seconds to wait before trying again.',
    schema: z.string().regex(/^[1-9]\d*$/),
  },
  RateLimit: {
    description: 'The quota left in the limit that applied (IETF RateLimit header fields, draft 8).',
    schema: z.string().min(1),
  },
  'RateLimit-Policy': {
    description: 'The limit that applied (IETF RateLimit header fields, draft 8).',
    schema: z.string().min(1),
  },
  'WWW-Authenticate': {
    description: 'The authentication scheme to use.',
    schema: z.literal(problemCatalog.unauthenticated.headers['WWW-Authenticate']),
  },
} as const;

export type HeaderName = keyof typeof HEADERS;

/** What the per-IP rate limiter sets on every answer that passed through it. */
export const RATE_LIMIT_HEADERS: HeaderName[] = ['RateLimit', 'RateLimit-Policy'];

/** Why a code can happen on a route; empty to say what the catalog says. */
export type ProblemNotes = Partial<Record<ErrorCode, string>>;

export interface AuthKind {
  /** As the README's route table shows it. */
  label: string;
  /** The OpenAPI security scheme; absent for open routes. */
  scheme?: 'userJwt' | 'adminToken' | 'metricsToken';
  /** The scheme is needed only when the operator configured it. */
  optional?: boolean;
  /** Behind the per-IP rate limiter (every answer that passed it carries RATE_LIMIT_HEADERS). */
  limited: boolean;
  problems: ProblemNotes;
}

const limitedAuth: ProblemNotes = {
  unauthenticated: '',
  'rate-limited': 'per client IP, counted before authentication',
  'not-ready': 'the store is unreachable',
};

export const AUTH_KINDS: Record<'none' | 'user' | 'userInBody' | 'admin' | 'metrics', AuthKind> = {
  none: { label: 'none', limited: false, problems: {} },
  user: {
    label: 'Bearer JWT',
    scheme: 'userJwt',
    limited: true,
    problems: {
      ...limitedAuth,
      unauthenticated: 'missing, invalid or expired JWT',
      forbidden: '`AUTH_TENANT_CLAIM` is set and the token has no valid tenant claim',
      'upstream-unavailable': 'the JWKS endpoint cannot be reached',
    },
  },
  userInBody: {
    label: 'the JWT as the `text/plain` body',
    limited: true,
    problems: {
      ...limitedAuth,
      unauthenticated:
        'the body is not a valid JWT (a token in the Authorization header alone does not count)',
      forbidden: '`AUTH_TENANT_CLAIM` is set and the token has no valid tenant claim',
      'upstream-unavailable': 'the JWKS endpoint cannot be reached',
      'payload-too-large': 'a body over 8 KiB, far larger than any token',
      'invalid-request': 'a body that could not be read',
    },
  },
  admin: {
    label: 'Bearer `ADMIN_TOKEN`',
    scheme: 'adminToken',
    limited: true,
    problems: { ...limitedAuth, unauthenticated: 'missing or wrong admin token' },
  },
  metrics: {
    label: 'none, or Bearer `METRICS_TOKEN` when set',
    scheme: 'metricsToken',
    optional: true,
    limited: false,
    problems: { unauthenticated: 'METRICS_TOKEN is set and the request does not carry it' },
  },
};

export interface SuccessSpec {
  description: string;
  /** A JSON body and its schema. */
  json?: z.ZodType;
  /** A body of another media type, not described further (offered beside `json` when both are set). */
  text?: string;
  /** Sent with every such answer. */
  headers?: HeaderName[];
  /** Sent with some. */
  optionalHeaders?: HeaderName[];
}

export interface RouteSpec {
  /** The name code generators give the operation's function. */
  operationId: string;
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI path template (`{name}` parameters). */
  path: string;
  auth: keyof typeof AUTH_KINDS;
  summary: string;
  description?: string;
  /** The route exists only when this variable is set; otherwise it answers 404 like any unknown path. */
  onlyWith?: string;
  pathParams?: Record<string, z.ZodType>;
  query?: Record<string, z.ZodType>;
  requestHeaders?: Record<string, z.ZodType>;
  /** A JSON request body. */
  body?: z.ZodType;
  /** A text/plain request body, described in words. */
  textBody?: string;
  describeBody?: (profileNames: string[]) => string;
  responses: Record<number, SuccessSpec>;
  /** The codes this route itself can answer, besides its auth kind's and EVERY_ROUTE's. */
  problems: ProblemNotes;
}

const upstreamCalls: ProblemNotes = {
  'upstream-error': '',
  'upstream-unavailable': '',
  'upstream-timeout': '',
};

export const ROUTES: RouteSpec[] = [
  {
    operationId: 'createSession',
    method: 'post',
    path: '/session',
    auth: 'user',
    summary: 'create a session for the caller',
    requestHeaders: { 'Idempotency-Key': idempotencyKey },
    body: createSessionBody,
    describeBody: (profiles) =>
      `An absent or empty body means \`{}\`. The profiles of this deployment: ${profiles.join(', ')}.`,
    responses: {
      201: {
        description: 'Created',
        json: createdSession,
        headers: ['Location', 'Cache-Control'],
        optionalHeaders: ['Idempotent-Replayed'],
      },
    },
    problems: {
      ...upstreamCalls,
      'invalid-request':
        'the body is not `{ "profile"?: string }`, a bad `Idempotency-Key`, or the client left',
      'unknown-profile': '',
      'idempotency-in-progress': '',
      'idempotency-key-reused': '',
      'payload-too-large': '',
      'unsupported-media-type': '',
      'rate-limited': 'per client IP, or `POST /session` per user',
      'session-limit': "the user's cap (policy `reject`), the tenant's or the global one",
      'budget-exhausted': '',
      'upstream-unavailable':
        'an upstream or the JWKS endpoint cannot be reached, or a replaced session could not be ended',
      'upstream-timeout': 'an upstream call or the whole create took too long',
    },
  },
  {
    operationId: 'endSession',
    method: 'delete',
    path: '/session/{id}',
    auth: 'user',
    summary: "terminate one of the caller's sessions",
    pathParams: { id: sessionId },
    responses: {
      204: { description: 'Terminated, or it had already ended upstream', headers: ['Cache-Control'] },
    },
    problems: {
      ...upstreamCalls,
      'not-found': "unknown or malformed id, or another user's session (the answers are identical)",
    },
  },
  {
    operationId: 'endSessionFromClosingPage',
    method: 'post',
    path: '/session/{id}/end',
    auth: 'userInBody',
    summary: 'the same, for a page being closed (a simple request: no CORS preflight to lose)',
    pathParams: { id: sessionId },
    textBody: "The caller's JWT, alone, as `text/plain`.",
    responses: {
      204: { description: 'Terminated, or it had already ended upstream', headers: ['Cache-Control'] },
    },
    problems: {
      ...upstreamCalls,
      'not-found': "unknown or malformed id, or another user's session (the answers are identical)",
    },
  },
  {
    operationId: 'listSessions',
    method: 'get',
    path: '/sessions',
    auth: 'user',
    summary: "list the caller's live sessions, newest first",
    responses: { 200: { description: 'OK', json: sessionList, headers: ['Cache-Control'] } },
    problems: {},
  },
  {
    operationId: 'getMyLimits',
    method: 'get',
    path: '/me/limits',
    auth: 'user',
    summary: "the caller's session cap and minute budgets: used, left, and when each resets",
    responses: { 200: { description: 'OK', json: callerLimits, headers: ['Cache-Control'] } },
    problems: {},
  },
  {
    operationId: 'getLiveness',
    method: 'get',
    path: '/healthz',
    auth: 'none',
    summary: 'liveness: the process serves HTTP (never checks Redis or upstreams)',
    responses: { 200: { description: 'Alive', json: liveness, headers: ['Cache-Control'] } },
    problems: {},
  },
  {
    operationId: 'getReadiness',
    method: 'get',
    path: '/readyz',
    auth: 'none',
    summary: 'readiness: store reachable and not draining; 503 otherwise',
    responses: { 200: { description: 'Ready', json: readiness, headers: ['Cache-Control'] } },
    problems: { 'not-ready': 'draining for shutdown, or the store does not answer within 1 s' },
  },
  {
    operationId: 'getMetrics',
    method: 'get',
    path: '/metrics',
    auth: 'metrics',
    summary: 'Prometheus metrics (text exposition format)',
    responses: { 200: { description: 'Metrics', text: 'text/plain', headers: ['Cache-Control'] } },
    problems: {},
  },
  {
    operationId: 'getOpenApiDocument',
    method: 'get',
    path: '/openapi.json',
    auth: 'none',
    summary: 'this OpenAPI 3.1 document',
    responses: { 200: { description: 'The document', json: openApiDocumentBody } },
    problems: {},
  },
  {
    operationId: 'adminListSessions',
    method: 'get',
    path: '/admin/sessions',
    auth: 'admin',
    onlyWith: 'ADMIN_TOKEN',
    summary: 'every live session of every user, newest first',
    query: { limit: adminSessionsLimit, ...adminSessionsFilter },
    responses: { 200: { description: 'OK', json: adminSessionList, headers: ['Cache-Control'] } },
    problems: {
      'invalid-request': 'a bad `limit`, `user` or `tenant`',
      'not-found': '`ADMIN_TOKEN` is not set',
    },
  },
  {
    operationId: 'adminEndUserSessions',
    method: 'delete',
    path: '/admin/users/{user}/sessions',
    auth: 'admin',
    onlyWith: 'ADMIN_TOKEN',
    summary: 'end every session of one user, through the same termination path as everything else',
    pathParams: { user: userId },
    responses: {
      200: { description: 'How many sessions ended', json: terminatedCount, headers: ['Cache-Control'] },
    },
    problems: {
      'not-found': '`ADMIN_TOKEN` is not set, or the user id is malformed',
      'upstream-unavailable': 'Avaturn did not confirm every end; the rest stay queued',
    },
  },
  ...(['user', 'tenant'] as const).flatMap((scope): RouteSpec[] => {
    const Scope = scope === 'user' ? 'User' : 'Tenant';
    const common = {
      path: `/admin/${scope}s/{${scope}}/limits`,
      auth: 'admin' as const,
      onlyWith: 'ADMIN_TOKEN',
      pathParams: { [scope]: scope === 'user' ? userId : tenantId },
    };
    const notFound = `\`ADMIN_TOKEN\` is not set, or the ${scope} id is malformed`;
    return [
      {
        ...common,
        operationId: `adminGet${Scope}Limits`,
        method: 'get',
        summary: `one ${scope}'s effective session cap and minute budgets, and whether each is a default or an override`,
        responses: { 200: { description: 'OK', json: effectiveLimits, headers: ['Cache-Control'] } },
        problems: { 'not-found': notFound },
      },
      {
        ...common,
        operationId: `adminSet${Scope}Limits`,
        method: 'put',
        summary: `override one ${scope}'s figures at run time (every replica applies them at once)`,
        body: limitsPatch,
        responses: {
          200: { description: 'The figures now in force', json: effectiveLimits, headers: ['Cache-Control'] },
        },
        problems: {
          'not-found': notFound,
          'invalid-request': 'not a strict object of whole numbers from 0 (or null)',
          'payload-too-large': '',
          'unsupported-media-type': '',
        },
      },
    ];
  }),
  {
    operationId: 'adminGetUsage',
    method: 'get',
    path: '/admin/usage',
    auth: 'admin',
    onlyWith: 'ADMIN_TOKEN',
    summary: 'settled session minutes per user, tenant, profile or day; JSON, or CSV with `Accept: text/csv`',
    query: usageQuery,
    responses: {
      200: {
        description: 'The rows, largest first (by day: in date order)',
        json: usageReport,
        text: 'text/csv',
        headers: ['Cache-Control'],
      },
    },
    problems: {
      'invalid-request': 'bad dates, `from` after `to`, more than 366 days, or a bad `group_by`',
      'not-found': '`ADMIN_TOKEN` is not set',
    },
  },
];

const INTERNAL_NOTE = 'a bug; details only in the log';

/** What any request can get, whatever its route: a bug, and Node's own answers before any route. */
export const EVERY_ROUTE: ProblemNotes = {
  internal: INTERNAL_NOTE,
  'request-timeout': 'the request did not arrive in time (Node answers it before any route)',
  'request-header-fields-too-large': "headers over Node's limit (answered before any route)",
};
