import { createHash, randomUUID } from 'node:crypto';
import { AppError } from '../errors';
import type { IdempotencyStore } from '../store/ports';

export const idempotencyKeyPattern = /^[\x20-\x7E]{1,255}$/;
/** Completed keys are kept this long (the contract's minimum). */
export const idempotencyTtlMs = 10 * 60_000;

export function fingerprintOf(body: unknown): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

export function assertIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!idempotencyKeyPattern.test(value)) {
    throw new AppError('invalid-request', 'Idempotency-Key must be 1-255 printable ASCII characters.');
  }
  return value;
}

/** An answer as it is kept for replay under an Idempotency-Key. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface IdempotentOutcome {
  replayed: boolean;
  response: StoredResponse;
}

export interface IdempotencyScope {
  userId: string;
  key: string;
  /** Of the request body: the same key with another body is a 422. */
  fingerprint: string;
}

/**
 * Runs `produce` once per (user, key). A repeat with the same body replays the stored answer, one
 * with another body is a 422, one while the first still runs is a 409. A failed attempt forgets
 * the key, so the client may retry it.
 */
export type IdempotentReplay = (
  scope: IdempotencyScope,
  produce: () => Promise<StoredResponse>,
) => Promise<IdempotentOutcome>;

/** The replay bound to its store; a first attempt holds its key for at most `pendingTtlMs`. */
export function createIdempotentReplay(store: IdempotencyStore, pendingTtlMs: number): IdempotentReplay {
  return (scope, produce) => runIdempotent(store, { ...scope, pendingTtlMs }, produce);
}

async function runIdempotent(
  store: IdempotencyStore,
  scope: IdempotencyScope & { pendingTtlMs: number },
  produce: () => Promise<StoredResponse>,
): Promise<IdempotentOutcome> {
  const attemptId = randomUUID();
  const begun = await store.idempotencyBegin(
    scope.userId,
    scope.key,
    scope.fingerprint,
    scope.pendingTtlMs,
    attemptId,
  );
  switch (begun.state) {
    case 'completed':
      // Only this function completes keys, always with a StoredResponse.
      return { replayed: true, response: begun.response as StoredResponse };
    case 'in-progress':
      throw new AppError('idempotency-in-progress', 'A request with this Idempotency-Key is still running.', {
        retryAfterSeconds: 1,
      });
    case 'mismatch':
      throw new AppError(
        'idempotency-key-reused',
        'This Idempotency-Key was used with a different request body.',
      );
    case 'started':
      break;
  }
  let response: StoredResponse;
  try {
    response = await produce();
  } catch (err) {
    await store.idempotencyAbandon(scope.userId, scope.key, attemptId).catch(() => undefined);
    throw err;
  }
  // The session exists and is registered: a store hiccup here must not cost the caller their answer.
  // The pending key then lapses and a later retry starts afresh.
  await store.idempotencyComplete(scope.userId, scope.key, response, idempotencyTtlMs).catch(() => undefined);
  return { replayed: false, response };
}
