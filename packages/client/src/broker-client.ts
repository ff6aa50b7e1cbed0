/**
 * A small, dependency-free client for the broker, for frontends (browser) and Node alike.
 * It needs only `fetch`; the bearer token comes from the app's own identity provider.
 */
import { errorFrom, unexpectedResponse, type BudgetScope, type BudgetWindow } from './broker-error';
import { networkError } from './network-error';
import { createPageHideEnder } from './page-hide';

export interface BrokerSession {
  sessionId: string;
  /** Hand this to the Avaturn Web SDK (`new AvaturnHead(el, { sessionToken })`); never log it. */
  token: string;
  expiresAt: Date;
  /** True when the broker replayed an earlier answer for the same Idempotency-Key: no new session was made. */
  replayed: boolean;
}

export interface BrokerSessionSummary {
  sessionId: string;
  profile: string;
  createdAt: Date;
  expiresAt: Date;
}

/** One minute budget that applies to the caller (`GET /me/limits`). */
export interface BrokerBudget {
  /** `user` (the caller's own) or `tenant` (shared with the caller's organisation). */
  scope: Exclude<BudgetScope, 'service'>;
  window: BudgetWindow;
  /** The budget of the window. */
  minutes: number;
  /** What ended sessions used plus what live ones hold reserved: `usedMinutes + leftMinutes = minutes`. */
  usedMinutes: number;
  leftMinutes: number;
  resetsAt: Date;
}

/** The caller's session cap and the minute budgets that apply; `budgets` is empty when none is set. */
export interface BrokerLimits {
  sessions: { live: number; max: number };
  budgets: BrokerBudget[];
}

export interface CreateSessionOptions {
  profile?: string;
  /** Reuse the same key to retry one click safely: the broker replays the first answer. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface BrokerClientOptions {
  /** The broker's origin (and optional path prefix), e.g. `https://broker.example.com`. */
  baseUrl: string;
  /** Returns the app's current JWT, without the `Bearer ` prefix. */
  getToken: () => string | Promise<string>;
  fetch?: typeof fetch;
  /**
   * In a browser, end the sessions this client created when the page goes away (`pagehide`), with
   * a `keepalive` request to `POST /session/:id/end` carrying the last token `getToken` returned
   * (refreshed when the page is hidden). Default `true`; a page that
   * hands its session on to another page (or keeps it across a reload on purpose) passes `false`.
   */
  endOnPageHide?: boolean;
}

export interface BrokerClient {
  createSession(options?: CreateSessionOptions): Promise<BrokerSession>;
  /**
   * Ends one of the caller's sessions. Resolves `true` when the broker terminated it and `false`
   * when the broker no longer knows it (404: already ended, expired, or never the caller's), so a
   * logout never fails for a session that is gone anyway. Every other failure throws.
   */
  endSession(sessionId: string, options?: { signal?: AbortSignal }): Promise<boolean>;
  listSessions(options?: { signal?: AbortSignal }): Promise<BrokerSessionSummary[]>;
  /** The caller's live sessions and cap, and each of their budgets: used, left, when it resets. */
  getLimits(options?: { signal?: AbortSignal }): Promise<BrokerLimits>;
}

function date(value: unknown): Date {
  const parsed = typeof value === 'string' ? new Date(value) : new Date(NaN);
  if (Number.isNaN(parsed.getTime())) throw new TypeError('not a date');
  return parsed;
}

function text(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new TypeError('not a string');
  return value;
}

function finite(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError('not a number');
  return value;
}

function count(value: unknown): number {
  if (finite(value) < 0) throw new TypeError('negative');
  return value as number;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new TypeError(`not one of ${allowed.join(', ')}`);
  return value as T;
}

function object(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) throw new TypeError('not an object');
  return value as Record<string, unknown>;
}

function limitsFrom(body: Record<string, unknown>): BrokerLimits {
  const sessions = object(body.sessions);
  if (!Array.isArray(body.budgets)) throw new TypeError('budgets is not an array');
  return {
    sessions: { live: count(sessions.live), max: count(sessions.max) },
    budgets: body.budgets.map((item: unknown) => {
      const budget = object(item);
      return {
        scope: oneOf(budget.scope, ['user', 'tenant'] as const),
        window: oneOf(budget.window, ['day', 'month'] as const),
        minutes: count(budget.minutes),
        usedMinutes: count(budget.used_minutes),
        // A session that ran a little past its reservation must not make the page say "-0.1".
        leftMinutes: Math.max(0, finite(budget.left_minutes)),
        resetsAt: date(budget.resets_at),
      };
    }),
  };
}

export function createBrokerClient(options: BrokerClientOptions): BrokerClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const sessionUrl = (sessionId: string) => `${baseUrl}/session/${encodeURIComponent(sessionId)}`;

  function endAtPageHide(sessionId: string, token: string): void {
    try {
      // A simple request (POST, text/plain body, no Authorization header) needs no CORS preflight:
      // Chromium sends a keepalive request's preflight but may drop the request with the page.
      doFetch(`${sessionUrl(sessionId)}/end`, {
        method: 'POST',
        body: token,
        keepalive: true,
        credentials: 'omit',
        cache: 'no-store',
      }).catch(() => undefined);
    } catch {
      // The page is going away: there is nobody left to tell.
    }
  }

  const tracker =
    options.endOnPageHide === false
      ? undefined
      : createPageHideEnder({
          end: endAtPageHide,
          refreshToken: () => void bearerToken().catch(() => undefined),
        });

  async function bearerToken(): Promise<string> {
    const token = await options.getToken();
    tracker?.useToken(token);
    return token;
  }

  async function call(
    method: string,
    url: string,
    init: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal },
  ) {
    const headers: Record<string, string> = {
      Accept: 'application/json, application/problem+json',
      Authorization: `Bearer ${await bearerToken()}`,
      ...init.headers,
    };
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await doFetch(url, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: init.signal,
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (cause) {
      throw networkError(cause, baseUrl);
    }
  }

  async function parse<T>(res: Response, shape: (body: Record<string, unknown>) => T): Promise<T> {
    try {
      return shape((await res.json()) as Record<string, unknown>);
    } catch (cause) {
      throw unexpectedResponse(res, cause);
    }
  }

  return {
    async createSession({ profile, idempotencyKey, signal } = {}) {
      const res = await call('POST', `${baseUrl}/session`, {
        body: profile === undefined ? {} : { profile },
        headers: idempotencyKey === undefined ? {} : { 'Idempotency-Key': idempotencyKey },
        signal,
      });
      if (res.status !== 201) throw await errorFrom(res);
      const session = await parse(res, (body) => ({
        sessionId: text(body.session_id),
        token: text(body.token),
        expiresAt: date(body.expires_at),
        replayed: res.headers.get('idempotent-replayed') === 'true',
      }));
      tracker?.track(session.sessionId, session.expiresAt);
      return session;
    },

    async endSession(sessionId, { signal } = {}) {
      const res = await call('DELETE', sessionUrl(sessionId), { signal });
      if (res.status === 204) {
        tracker?.forget(sessionId);
        return true;
      }
      const error = await errorFrom(res);
      if (error.code !== 'not-found') throw error;
      tracker?.forget(sessionId);
      return false;
    },

    async listSessions({ signal } = {}) {
      const res = await call('GET', `${baseUrl}/sessions`, { signal });
      if (res.status !== 200) throw await errorFrom(res);
      return parse(res, (body) => {
        if (!Array.isArray(body.sessions)) throw new TypeError('sessions is not an array');
        return body.sessions.map((item: Record<string, unknown>) => ({
          sessionId: text(item.session_id),
          profile: text(item.profile),
          createdAt: date(item.created_at),
          expiresAt: date(item.expires_at),
        }));
      });
    },

    async getLimits({ signal } = {}) {
      const res = await call('GET', `${baseUrl}/me/limits`, { signal });
      if (res.status !== 200) throw await errorFrom(res);
      return parse(res, limitsFrom);
    },
  };
}
