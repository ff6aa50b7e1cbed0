import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../errors';
import type { SessionStore } from './ports';

/** What every caller answers when the store cannot be reached: fail closed, retry shortly. */
export function storeUnavailable(cause: unknown): AppError {
  return new AppError('not-ready', 'The session store is unreachable; try again shortly.', {
    cause,
    retryAfterSeconds: 5,
  });
}

export interface GuardOptions {
  /** Pauses before each further attempt; the default tries three times within about half a second. */
  retryDelaysMs?: number[];
}

/** Errors that retrying cannot mend: the store answered, and the answer is final. */
const finalErrors = new Set(['ReservationLostError']);

/**
 * The store as every caller uses it. Each call is retried a few times on a failure (a lost or late
 * Redis reply, a dropped connection): every store method is safe to repeat, so a retry either gets
 * the first call's answer or does the work once. What still fails becomes 503 `not-ready`, the one
 * mapping of a store outage, instead of being written at every call site.
 */
export function guardStore(store: SessionStore, options: GuardOptions = {}): SessionStore {
  const delays = options.retryDelaysMs ?? [50, 250];

  async function attempt<T>(call: () => Promise<T>): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await call();
      } catch (err) {
        if (err instanceof AppError || (err instanceof Error && finalErrors.has(err.name))) throw err;
        const delay = delays[i];
        if (delay === undefined) throw storeUnavailable(err);
        await sleep(delay);
      }
    }
  }

  const guarded = { ...store } as SessionStore;
  for (const name of Object.keys(store) as (keyof SessionStore)[]) {
    const method = store[name];
    if (typeof method !== 'function' || name === 'rateLimitStore' || name === 'close') continue;
    (guarded as unknown as Record<string, unknown>)[name] = (...args: unknown[]) =>
      attempt(() => (method as (...a: unknown[]) => Promise<unknown>).apply(store, args));
  }
  return guarded;
}
