import type { Store as RateLimitStore } from 'express-rate-limit';
import type { EngineType, SessionLimitPolicy } from '../config/types';
import { AppError } from '../errors';

/** A live session the broker created and is accountable for. Times are epoch milliseconds. */
export interface SessionRecord {
  sessionId: string;
  userId: string;
  profile: string;
  engine: EngineType;
  createdAt: number;
  expiresAt: number;
}

export interface ReserveRequest {
  userId: string;
  /** Live sessions plus pending reservations one user may hold. */
  perUserCap: number;
  /** Live sessions plus pending reservations across all users; 0 = no cap. */
  globalCap: number;
  policy: SessionLimitPolicy;
  /** How long an uncommitted reservation holds its slot before it lapses by itself (crashed replica). */
  reservationTtlMs: number;
}

export type ReserveResult =
  | {
      ok: true;
      reservationId: string;
      /**
       * With `replace-oldest`: the user's oldest sessions, already removed from the registry by this
       * call (atomically, so no other caller gets them too), that the caller must terminate upstream.
       */
      evicted: SessionRecord[];
    }
  | { ok: false; reason: 'user-cap' | 'global-cap' };

export type IdempotencyBegin =
  | { state: 'started' }
  | { state: 'in-progress' }
  | { state: 'mismatch' }
  | { state: 'completed'; response: StoredResponse };

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * Everything that must hold across requests and across replicas: the session registry, the
 * concurrency slots and the idempotency keys. Every method is atomic with respect to every other
 * caller of the same backing store.
 */
export interface SessionStore {
  readonly kind: 'memory' | 'redis';

  /** Take a slot for a session about to be created; see ReserveResult. */
  reserve(req: ReserveRequest): Promise<ReserveResult>;
  /**
   * Turn a reservation into a registered session. The record lapses by itself at
   * `record.expiresAt + retentionSlackMs`. Throws if the reservation no longer exists.
   */
  commit(reservationId: string, record: SessionRecord): Promise<void>;
  /** Give a reservation's slot back. Idempotent; unknown ids are ignored. */
  release(reservationId: string): Promise<void>;

  get(sessionId: string): Promise<SessionRecord | undefined>;
  /** The user's live sessions, newest first. */
  listByUser(userId: string): Promise<SessionRecord[]>;
  /**
   * Remove a session if it is owned by `userId` (or by anyone when `userId` is omitted).
   * Returns the removed record, or undefined if it was not there (or not theirs). Exactly one
   * concurrent caller gets the record back.
   */
  remove(sessionId: string, userId?: string): Promise<SessionRecord | undefined>;
  /** Live sessions across all users (for metrics and the global cap). */
  countAll(): Promise<number>;

  idempotencyBegin(
    userId: string,
    key: string,
    fingerprint: string,
    pendingTtlMs: number,
  ): Promise<IdempotencyBegin>;
  idempotencyComplete(userId: string, key: string, response: StoredResponse, ttlMs: number): Promise<void>;
  /** Forget a started key so that the client may retry it (used when the attempt failed). */
  idempotencyAbandon(userId: string, key: string): Promise<void>;

  /** A store for express-rate-limit sharing this backend; undefined means the library's memory store. */
  rateLimitStore(prefix: string): RateLimitStore | undefined;

  /** Resolves when the store answers; rejects otherwise. Used by readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const retentionSlackMs = 60_000;

/** What every caller answers when the store cannot be reached: fail closed, retry shortly. */
export function storeUnavailable(cause: unknown): AppError {
  return new AppError('not-ready', 'The session store is unreachable; try again shortly.', {
    cause,
    retryAfterSeconds: 5,
  });
}
