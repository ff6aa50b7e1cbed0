import { AppError, type ErrorCode } from '../errors';
import type { UpstreamName } from './types';

/**
 * `capacity`: the upstream refused because our account is at its plan's limit (Cartesia's
 * `concurrency_limited`); slots free up as running calls end, so it is neither retried at once
 * nor an outage that should open the circuit.
 */
export type UpstreamFailureKind =
  'timeout' | 'unreachable' | 'status' | 'bad-response' | 'circuit-open' | 'capacity';

const retryableStatuses = new Set([408, 409, 429]);
/** Retry-After for a 503 when the upstream named no time. */
const defaultRetryAfterMs = 5000;
/** The same for a full account: a slot frees up only when a running call ends. */
const capacityRetryAfterMs = 30_000;

/**
 * An upstream call that failed. The public detail names only the upstream; the status, the
 * upstream's request id and the kind go to logs through `cause` (never the upstream's text, which
 * can quote a key).
 */
export class UpstreamError extends AppError {
  readonly upstream: UpstreamName;
  readonly kind: UpstreamFailureKind;
  readonly upstreamStatus: number | undefined;
  /** Worth another try (minting only): timeouts, connection failures, 408/409/429/5xx. */
  readonly retryable: boolean;
  /** Counts towards opening the upstream's circuit: outages, not our own 4xx. */
  readonly isOutage: boolean;
  readonly retryAfterMs: number | undefined;
  readonly upstreamRequestId: string | undefined;

  constructor(
    upstream: UpstreamName,
    kind: UpstreamFailureKind,
    details: {
      status?: number;
      retryAfterMs?: number;
      upstreamRequestId?: string;
      reason?: string;
      /** Replaces the generic public detail; our own words only, never the upstream's text. */
      detail?: string;
    } = {},
  ) {
    const { code, retryable } = classify(kind, details.status);
    const fallbackMs = kind === 'capacity' ? capacityRetryAfterMs : defaultRetryAfterMs;
    const retryAfterSeconds =
      code === 'upstream-unavailable' ? Math.ceil((details.retryAfterMs ?? fallbackMs) / 1000) : undefined;
    super(code, details.detail ?? describe(upstream, code), {
      retryAfterSeconds,
      cause: {
        upstream,
        kind,
        status: details.status,
        upstreamRequestId: details.upstreamRequestId,
        reason: details.reason,
      },
    });
    this.name = 'UpstreamError';
    this.upstream = upstream;
    this.kind = kind;
    this.upstreamStatus = details.status;
    this.retryable = retryable;
    this.isOutage = retryable && kind !== 'circuit-open';
    this.retryAfterMs = details.retryAfterMs;
    this.upstreamRequestId = details.upstreamRequestId;
  }
}

function classify(
  kind: UpstreamFailureKind,
  status: number | undefined,
): { code: ErrorCode; retryable: boolean } {
  switch (kind) {
    case 'timeout':
      return { code: 'upstream-timeout', retryable: true };
    case 'unreachable':
      return { code: 'upstream-unavailable', retryable: true };
    case 'circuit-open':
    case 'capacity':
      return { code: 'upstream-unavailable', retryable: false };
    case 'bad-response':
      return { code: 'upstream-error', retryable: false };
    case 'status':
      if (status !== undefined && (status >= 500 || retryableStatuses.has(status))) {
        return { code: 'upstream-unavailable', retryable: true };
      }
      return { code: 'upstream-error', retryable: false };
  }
}

const names: Record<UpstreamName, string> = {
  openai: 'OpenAI',
  cartesia: 'Cartesia',
  avaturn: 'Avaturn',
  webhook: 'The events webhook',
};

function describe(upstream: UpstreamName, code: ErrorCode): string {
  const name = names[upstream];
  if (code === 'upstream-timeout') return `${name} did not answer in time.`;
  if (code === 'upstream-unavailable') return `${name} is unavailable right now; try again shortly.`;
  return `${name} gave an answer the broker cannot use.`;
}

/** Parses `Retry-After` (seconds or HTTP date) into milliseconds, capped at a minute. */
export function parseRetryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return Math.min(ms, 60_000);
}
