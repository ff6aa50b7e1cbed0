import CircuitBreaker from 'opossum';
import type { UpstreamName } from './types';
import { UpstreamError } from './upstream-error';

export interface CircuitOptions {
  /** Calls in the rolling window before the circuit may open. */
  volumeThreshold?: number;
  errorThresholdPercentage?: number;
  /** How long it stays open before one half-open probe is let through. */
  resetTimeoutMs?: number;
  rollingWindowMs?: number;
}

/** Told about every call: how it ended and how long it took (metrics). */
export type CallObserver = (
  upstream: UpstreamName,
  operation: string,
  outcome: string,
  seconds: number,
) => void;

type CircuitState = 'closed' | 'open' | 'half-open';

export interface Circuit {
  /** Runs one call through the breaker; `operation` names it for metrics (create, mint, ...). */
  run<T>(operation: string, call: () => Promise<T>): Promise<T>;
  readonly state: CircuitState;
  /** Tells `listener` each new state: opened, letting a probe through, closed again. */
  onStateChange(listener: (state: CircuitState) => void): void;
  shutdown(): void;
}

/**
 * One breaker per upstream: only outages (timeouts, connection failures, 429/5xx) count, so a
 * run of our own 4xx never opens it. While open, calls fail at once with a 503 and Retry-After.
 */
export function createCircuit(
  upstream: UpstreamName,
  options: CircuitOptions = {},
  observe: CallObserver = () => undefined,
): Circuit {
  const resetTimeoutMs = options.resetTimeoutMs ?? 10_000;
  const breaker = new CircuitBreaker((call: () => Promise<unknown>) => call(), {
    timeout: false,
    volumeThreshold: options.volumeThreshold ?? 5,
    errorThresholdPercentage: options.errorThresholdPercentage ?? 50,
    resetTimeout: resetTimeoutMs,
    rollingCountTimeout: options.rollingWindowMs ?? 30_000,
    rollingCountBuckets: 10,
    enableSnapshots: false,
    errorFilter: (err: unknown) => !(err instanceof UpstreamError && err.isOutage),
  });
  let openedAt = 0;
  breaker.on('open', () => {
    openedAt = Date.now();
  });

  return {
    async run<T>(operation: string, call: () => Promise<T>): Promise<T> {
      const started = performance.now();
      const done = (outcome: string) =>
        observe(upstream, operation, outcome, (performance.now() - started) / 1000);
      try {
        const result = (await breaker.fire(call)) as T;
        done('ok');
        return result;
      } catch (err) {
        if ((err as { code?: string }).code === 'EOPENBREAKER') {
          const retryAfterMs = Math.max(1000, openedAt + resetTimeoutMs - Date.now());
          done('circuit-open');
          throw new UpstreamError(upstream, 'circuit-open', { retryAfterMs });
        }
        done(outcomeOf(err));
        throw err;
      }
    },
    get state() {
      return breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed';
    },
    onStateChange(listener) {
      breaker.on('open', () => listener('open'));
      breaker.on('halfOpen', () => listener('half-open'));
      breaker.on('close', () => listener('closed'));
    },
    shutdown() {
      breaker.shutdown();
    },
  };
}

/** A bounded label for how a call failed. */
function outcomeOf(err: unknown): string {
  if (!(err instanceof UpstreamError)) return 'aborted';
  if (err.kind === 'status' && err.upstreamStatus !== undefined)
    return `status-${Math.floor(err.upstreamStatus / 100)}xx`;
  return err.kind;
}
