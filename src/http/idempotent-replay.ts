import { createHash, randomUUID } from 'node:crypto';
import { AppError } from '../errors';
import type { IdempotencyStore } from '../store/ports';
import { sealedScope, type SealedScope } from './sealed-replay';

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

/**
 * The store files every entry under this name and the entry's sealed id (see sealed-replay.ts), so
 * its key names hold neither a user nor an Idempotency-Key.
 */
const sealedEntries = 'sealed';

/** The replay bound to its store; a first attempt holds its key for at most `pendingTtlMs`. */
export function createIdempotentReplay(store: IdempotencyStore, pendingTtlMs: number): IdempotentReplay {
  return (scope, produce) =>
    runIdempotent(store, sealedScope(scope.userId, scope.key), scope.fingerprint, pendingTtlMs, produce);
}

async function runIdempotent(
  store: IdempotencyStore,
  sealed: SealedScope,
  fingerprint: string,
  pendingTtlMs: number,
  produce: () => Promise<StoredResponse>,
): Promise<IdempotentOutcome> {
  const attemptId = randomUUID();
  const entryId = sealed.entryId;
  const begun = await store.idempotencyBegin(
    sealedEntries,
    entryId,
    sealed.fingerprint(fingerprint),
    pendingTtlMs,
    attemptId,
  );
  switch (begun.state) {
    case 'completed':
      return { replayed: true, response: openResponse(sealed, begun.response) };
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
    await store.idempotencyAbandon(sealedEntries, entryId, attemptId).catch(() => undefined);
    throw err;
  }
  // The session exists and is registered: a store hiccup here must not cost the caller their answer.
  // The pending key then lapses and a later retry starts afresh.
  await store
    .idempotencyComplete(sealedEntries, entryId, sealed.seal(response), idempotencyTtlMs)
    .catch(() => undefined);
  return { replayed: false, response };
}

/**
 * Only this module completes entries, always with a sealed StoredResponse: one that does not open
 * was altered or damaged in the store, and its client is told to use a new key.
 */
function openResponse(sealed: SealedScope, stored: unknown): StoredResponse {
  try {
    return sealed.open(stored) as StoredResponse;
  } catch (cause) {
    throw new AppError(
      'idempotency-key-reused',
      'The answer kept for this Idempotency-Key cannot be read; send the request with a new key.',
      { cause },
    );
  }
}
