import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { settledSeconds } from '../store/budgets';
import type { EndReason } from '../store/end-reasons';
import type { Job, SessionRecord, SessionRegistry, TerminationPayload } from '../store/ports';
import { withRetries } from '../upstreams/retry';
import type { AvaturnGateway } from '../upstreams/types';
import { sessionEnded, type LifecycleEvents, type SessionEvent } from './lifecycle-events';

export interface TerminationsDeps {
  store: SessionRegistry;
  avaturn: AvaturnGateway;
  metrics: Metrics;
  events: LifecycleEvents;
  logger: Logger;
  clock: () => number;
  /** How long the queue's worker leaves a freshly queued termination to the caller trying it now. */
  callerGraceMs: number;
  /** Pauses of the in-process fallback when the store itself cannot take a termination. */
  fallbackDelaysMs?: number[];
}

export interface EndOptions {
  /** Only the owner's session; a foreign or unknown id ends nothing. */
  ownerId?: string;
  signal?: AbortSignal;
  /** Retries of the Avaturn DELETE (each one is safe: a second DELETE answers 404). */
  retries?: number;
}

export type Terminations = ReturnType<typeof createTerminations>;

/**
 * The one way a session is ended. A termination is first queued in the store (durably, with Redis),
 * then tried at once; only Avaturn's confirmation (2xx, or 404 for one already gone) unregisters
 * the session. What fails stays queued for the worker, which tries until the session's own
 * max_duration has passed. So a session the broker knows of is always either listed or queued.
 */
export function createTerminations(deps: TerminationsDeps) {
  const { store, avaturn, metrics, events, logger, clock } = deps;
  const fallbackDelays = deps.fallbackDelaysMs ?? [250, 1_000, 3_000, 10_000, 30_000];
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;

  function track<T>(work: Promise<T>): Promise<T> {
    inFlight.add(work);
    void work.then(
      () => inFlight.delete(work),
      () => inFlight.delete(work),
    );
    return work;
  }

  /** Unregisters a session that has ended, with its event in the outbox, and reports it. */
  async function finish(record: SessionRecord, reason: EndReason, endedAt = clock()): Promise<void> {
    const event = sessionEnded(record, reason, endedAt);
    // Charged in the same step, once: from creation to now, Avaturn's confirmation.
    await store.finishEnd(record.sessionId, events.outbox(event), { at: event.at, record });
    reported(event);
  }

  function reported(event: SessionEvent): void {
    const reason = event.reason!;
    const { session } = event;
    metrics.sessionsEnded.inc({ reason });
    metrics.sessionLifetime.observe({ reason }, Math.max(0, event.at - session.createdAt) / 1000);
    metrics.sessionSeconds.inc(
      { profile: session.profile, engine: session.engine },
      settledSeconds(session, event.at),
    );
    events.log(event);
  }

  /** Ends a session already queued for termination; throws what Avaturn's DELETE threw. */
  async function attempt(
    record: SessionRecord,
    reason: EndReason,
    options: Pick<EndOptions, 'signal' | 'retries'> & { requestedAt?: number } = {},
  ): Promise<void> {
    const outcome = await withRetries(
      () => avaturn.terminateSession(record.sessionId, { signal: options.signal }),
      {
        maxRetries: options.retries ?? 0,
        baseDelayMs: 100,
        maxDelayMs: 1_000,
        signal: options.signal,
      },
    ).catch((err: unknown) => {
      metrics.terminations.inc({ outcome: 'failed' });
      throw err;
    });
    metrics.terminations.inc({ outcome });
    // Already gone when a queued retry asks: it ended no later than the first attempt.
    const endedAt = outcome === 'already-gone' ? Math.min(options.requestedAt ?? Infinity, clock()) : clock();
    await finish(record, reason, endedAt);
  }

  /**
   * Queues the session's termination and tries it now. Resolves the record once ended, undefined
   * when there was nothing (of `ownerId`'s) to end; rejects when Avaturn did not confirm (the
   * termination then stays queued) or the store could not be reached (nothing was queued).
   */
  async function end(
    sessionId: string,
    reason: EndReason,
    options: EndOptions = {},
  ): Promise<SessionRecord | undefined> {
    const record = await store.requestEnd({
      sessionId,
      reason,
      ownerId: options.ownerId,
      dueAt: clock() + deps.callerGraceMs,
    });
    if (record === undefined) return undefined;
    await attempt(record, reason, options);
    return record;
  }

  /**
   * Ends a session nobody will be handed (registered or not), never throwing. When even the store
   * cannot take it, this process keeps trying by itself: to queue it, and to end it upstream.
   */
  function compensate(record: SessionRecord, reason: EndReason): Promise<void> {
    return track(
      (async () => {
        try {
          await store.requestEnd({
            sessionId: record.sessionId,
            reason,
            known: record,
            dueAt: clock() + deps.callerGraceMs,
          });
        } catch (err) {
          logger.warn(
            { err, sessionId: record.sessionId },
            'could not queue a termination; retrying in process',
          );
          await fallback(record, reason);
          return;
        }
        await attempt(record, reason).catch((err: unknown) => {
          logger.warn({ err, sessionId: record.sessionId, reason }, 'termination failed; left to the queue');
        });
      })(),
    );
  }

  async function fallback(record: SessionRecord, reason: EndReason): Promise<void> {
    let endedUpstream = false;
    for (const delay of [0, ...fallbackDelays]) {
      if (closed || clock() >= record.expiresAt) break;
      await sleep(delay);
      if (!endedUpstream) {
        endedUpstream = await avaturn.terminateSession(record.sessionId).then(
          (outcome) => (metrics.terminations.inc({ outcome }), true),
          () => false,
        );
      }
      const queued = await store
        .requestEnd({ sessionId: record.sessionId, reason, known: record, dueAt: clock() })
        .then(
          () => true,
          () => false,
        );
      if (queued) return;
    }
    if (!endedUpstream) {
      logger.error({ sessionId: record.sessionId }, 'could not end a session; it ends by its own timeouts');
    }
  }

  /** The worker's handler for `terminate` jobs. */
  const jobHandler = {
    async run(job: Job, signal: AbortSignal): Promise<void> {
      const { record, reason, requestedAt } = job.payload as TerminationPayload;
      await attempt(record, reason, { signal, requestedAt });
    },
    /** Past max_duration: Avaturn has ended it by itself; forget it. */
    async drop(job: Job): Promise<void> {
      const { record } = job.payload as TerminationPayload;
      metrics.terminations.inc({ outcome: 'dropped' });
      await finish(record, 'expired');
    },
  };

  return {
    attempt,
    end,
    compensate,
    jobHandler,
    /** Sweeps sessions that lapsed in the registry (Avaturn ended them at max_duration). */
    async sweepExpired(limit: number): Promise<number> {
      const at = clock();
      const swept = await store.sweepExpired(limit, (record) =>
        events.outbox(sessionEnded(record, 'expired', at)),
      );
      for (const record of swept) reported(sessionEnded(record, 'expired', at));
      return swept.length;
    },
    /** Waits for compensations under way in this process (tests; shutdown, within a budget). */
    async settle(): Promise<void> {
      await Promise.allSettled([...inFlight]);
    },
    close(): void {
      closed = true;
    },
  };
}
