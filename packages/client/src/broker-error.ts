/** The client's one error type: a problem+json answer, or no usable answer at all, in words. */

/** The codes of the broker's problem+json answers (its README documents each). */
export type ProblemCode =
  | 'invalid-request'
  | 'unknown-profile'
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'request-timeout'
  | 'idempotency-in-progress'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'idempotency-key-reused'
  | 'rate-limited'
  | 'session-limit'
  | 'budget-exhausted'
  | 'request-header-fields-too-large'
  | 'upstream-error'
  | 'upstream-unavailable'
  | 'not-ready'
  | 'upstream-timeout'
  | 'internal';

export type BrokerErrorCode =
  | ProblemCode
  /** The broker could not be reached at all (offline, DNS, CORS refused, aborted). */
  | 'network-error'
  /** An answer that is not the broker's problem+json, e.g. from a proxy in between. */
  | 'unexpected-response';

/** Whose minute budget ran out (`budget-exhausted`). */
export type BudgetScope = 'user' | 'tenant' | 'service';
/** Which window of it: a calendar day or month in the broker's `BUDGET_TIME_ZONE`. */
export type BudgetWindow = 'day' | 'month';

interface ProblemFields {
  status: number;
  /** Replaces the message written from the code, e.g. with what a developer should fix. */
  message?: string;
  code: BrokerErrorCode;
  title?: string;
  detail?: string;
  requestId?: string;
  retryAfterSeconds?: number;
  scope?: BudgetScope;
  window?: BudgetWindow;
}

/** A failed call; `message` is written for a person, `code` for a program. */
export class BrokerError extends Error {
  /** HTTP status, or 0 when no answer arrived. */
  readonly status: number;
  readonly code: BrokerErrorCode;
  readonly title: string | undefined;
  /** The broker's own explanation; never holds secrets or upstream text. */
  readonly detail: string | undefined;
  /** Quote this when reporting a problem: it finds the broker's log line. */
  readonly requestId: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  /** With `budget-exhausted`: whose budget ran out; `retryAfterSeconds` is the time until it resets. */
  readonly scope: BudgetScope | undefined;
  /** With `budget-exhausted`: the window that ran out. */
  readonly window: BudgetWindow | undefined;

  constructor(fields: ProblemFields, options?: { cause?: unknown }) {
    super(humanMessage(fields), options);
    this.name = 'BrokerError';
    this.status = fields.status;
    this.code = fields.code;
    this.title = fields.title;
    this.detail = fields.detail;
    this.requestId = fields.requestId;
    this.retryAfterSeconds = fields.retryAfterSeconds;
    this.scope = fields.scope;
    this.window = fields.window;
  }

  /** Worth trying again later (limits, upstream trouble, network), as opposed to a caller mistake. */
  get retryable(): boolean {
    return retryableCodes.has(this.code);
  }
}

const retryableCodes = new Set<BrokerErrorCode>([
  'idempotency-in-progress',
  'request-timeout',
  'rate-limited',
  'session-limit',
  'budget-exhausted',
  'upstream-unavailable',
  'not-ready',
  'upstream-timeout',
  'network-error',
]);

const messages: Record<BrokerErrorCode, string> = {
  'invalid-request': 'The request was not understood.',
  'unknown-profile': 'That avatar profile does not exist.',
  unauthenticated: 'Your sign-in has expired. Please sign in again.',
  forbidden: 'This is not allowed for your account.',
  'not-found': 'That avatar session no longer exists.',
  'request-timeout': 'The request took too long to arrive.',
  'idempotency-in-progress': 'Your avatar is still starting.',
  'payload-too-large': 'The request was too large.',
  'unsupported-media-type': 'The request was not sent as JSON.',
  'idempotency-key-reused': 'This request was already used for something else.',
  'rate-limited': 'Too many attempts.',
  'session-limit': 'You already have an avatar running, or all avatars are busy.',
  'budget-exhausted': 'You have used up your avatar minutes for now.',
  'request-header-fields-too-large': 'The request headers were too large.',
  'upstream-error': 'The avatar service answered something unexpected.',
  'upstream-unavailable': 'The avatar service is unavailable right now.',
  'not-ready': 'The service is restarting.',
  'upstream-timeout': 'The avatar service took too long to answer.',
  internal: 'Something went wrong on our side.',
  'network-error': 'The avatar service could not be reached. Check your connection.',
  'unexpected-response': 'The avatar service answered something unexpected.',
};

const budgetMessages: Record<BudgetScope, Record<BudgetWindow, string>> = {
  user: {
    day: 'You have used today’s avatar minutes.',
    month: 'You have used this month’s avatar minutes.',
  },
  tenant: {
    day: 'Your organisation has used today’s avatar minutes.',
    month: 'Your organisation has used this month’s avatar minutes.',
  },
  service: {
    day: 'The avatar service has used all of today’s minutes.',
    month: 'The avatar service has used all of this month’s minutes.',
  },
};

function humanMessage(fields: ProblemFields): string {
  const { code, retryAfterSeconds, message, scope } = fields;
  if (message !== undefined) return message;
  const budget =
    code === 'budget-exhausted' && scope !== undefined && fields.window !== undefined
      ? budgetMessages[scope][fields.window]
      : undefined;
  const base = budget ?? messages[code];
  if (retryAfterSeconds !== undefined) return `${base} Try again in ${formatSeconds(retryAfterSeconds)}.`;
  return retryableCodes.has(code) ? `${base} Try again in a moment.` : base;
}

/** "45 s", "12 min", "3 h 12 min", "12 days": a budget's reset can be hours or days away. */
export function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  if (minutes < 48 * 60) {
    const rest = minutes % 60;
    return rest === 0 ? `${minutes / 60} h` : `${Math.floor(minutes / 60)} h ${rest} min`;
  }
  return `${Math.ceil(minutes / (24 * 60))} days`;
}

const knownCodes = new Set(Object.keys(messages));

function isBrokerErrorCode(value: unknown): value is BrokerErrorCode {
  return typeof value === 'string' && knownCodes.has(value);
}

/** Retry-After in seconds or as an HTTP date (RFC 9110); undefined when absent or unreadable. */
function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/** The error a non-success answer stands for. */
export async function errorFrom(res: Response): Promise<BrokerError> {
  const retryAfterSeconds = parseRetryAfter(res.headers.get('retry-after'));
  const headerRequestId = res.headers.get('x-request-id') ?? undefined;
  let body: unknown;
  if (/^application\/(problem\+)?json/.test(res.headers.get('content-type') ?? '')) {
    body = await res.json().catch(() => undefined);
  }
  const problem = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const str = (key: string) => (typeof problem[key] === 'string' ? (problem[key] as string) : undefined);
  const scope = str('scope');
  const budgetWindow = str('window');
  return new BrokerError({
    status: res.status,
    code: isBrokerErrorCode(problem.code) ? problem.code : 'unexpected-response',
    title: str('title'),
    detail: str('detail'),
    requestId: str('request_id') ?? headerRequestId,
    retryAfterSeconds,
    scope: scope === 'user' || scope === 'tenant' || scope === 'service' ? scope : undefined,
    window: budgetWindow === 'day' || budgetWindow === 'month' ? budgetWindow : undefined,
  });
}

/** A success status whose body is not what the broker promises. */
export function unexpectedResponse(res: Response, cause: unknown): BrokerError {
  return new BrokerError(
    {
      status: res.status,
      code: 'unexpected-response',
      requestId: res.headers.get('x-request-id') ?? undefined,
    },
    { cause },
  );
}
