import { setTimeout as sleep } from 'node:timers/promises';
import { UpstreamError } from './upstream-error';

export interface RetryOptions {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  signal?: AbortSignal;
  random?: () => number;
}

export const defaultRetry: Omit<RetryOptions, 'signal'> = {
  maxRetries: 2,
  baseDelayMs: 100,
  maxDelayMs: 2000,
};

/**
 * Retries only what is safe to repeat (the caller decides: minting, never an Avaturn create) and
 * only retryable upstream failures, waiting full-jitter backoff or the upstream's Retry-After,
 * whichever is longer. A wait longer than maxDelayMs gives up at once instead.
 */
export async function withRetries<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof UpstreamError) || !err.retryable || attempt >= options.maxRetries) throw err;
      const backoff = random() * Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt);
      const wait = Math.max(backoff, err.retryAfterMs ?? 0);
      if (wait > options.maxDelayMs) throw err;
      await sleep(wait, undefined, { signal: options.signal }).catch(() => {
        throw options.signal?.reason ?? err;
      });
    }
  }
}
