import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { EndReason } from '../store/end-reasons';
import type { SessionRecord, SessionStore } from '../store/ports';

export interface SessionRecoveryDeps {
  /** The guarded store: retried, 503 `not-ready` when unreachable. */
  store: SessionStore;
  metrics: Metrics;
  logger: Logger;
  clock: () => number;
  /** How often the store's epoch marker is checked (it is also checked after every reservation). */
  checkIntervalMs?: number;
  /** Sessions remembered at most; beyond it the oldest is forgotten (and counted when data is lost). */
  maxRemembered?: number;
}

export type SessionRecovery = ReturnType<typeof createSessionRecovery>;

const defaultCheckIntervalMs = 2_000;
const defaultMaxRemembered = 100_000;
/** Re-registrations sent to the store at once. */
const restoreBatch = 20;
/** How long a re-registration's reservation may wait for its commit. */
const restoreHoldMs = 30_000;
/** Remembered sessions looked up in the store per check, to forget those another replica ended. */
const reconcileSliceSize = 200;
/** Pauses before each further round of re-registering what a round could not. */
const restoreRetryPausesMs = [1_000, 3_000];

/**
 * Survives a store that lost its data (a Redis restarted without persistence, a failover that
 * dropped recent writes). Every session this replica registers is remembered here until it sees it
 * end or its expires_at passes. The store's epoch marker is checked every few seconds and after
 * every reservation; when it changed, this replica logs an error, counts it, and registers again
 * every session it remembers (with its pending termination, if one was asked for), through the
 * same reserve and commit as a create. Creates on this replica are refused with 503 `not-ready`
 * until that is done and a hold has passed that lets the other replicas notice and do the same, so
 * that the caps count every restored session before anyone may start another.
 */
export function createSessionRecovery(deps: SessionRecoveryDeps) {
  const { store, metrics, logger, clock } = deps;
  const checkIntervalMs = deps.checkIntervalMs ?? defaultCheckIntervalMs;
  const maxRemembered = deps.maxRemembered ?? defaultMaxRemembered;
  /** Longer than it takes every replica to check once and re-register what it remembers. */
  const holdMs = 2 * checkIntervalMs + 5_000;
  /** In registration order, so the oldest is the first to go when full. */
  const remembered = new Map<string, SessionRecord>();
  const ending = new Map<string, EndReason>();
  let forgottenForRoom = 0;
  let known: string | undefined;
  let restoring: Promise<void> | undefined;
  let holdUntil = 0;
  let timer: NodeJS.Timeout | undefined;
  /** Remembered ids still to be looked up in this round of reconciling. */
  let toReconcile: string[] = [];

  function remember(record: SessionRecord): void {
    if (record.expiresAt <= clock()) return;
    remembered.delete(record.sessionId);
    remembered.set(record.sessionId, record);
    for (const oldest of remembered.keys()) {
      if (remembered.size <= maxRemembered) break;
      forget(oldest);
      forgottenForRoom += 1;
    }
  }

  function forget(sessionId: string): void {
    remembered.delete(sessionId);
    ending.delete(sessionId);
  }

  function forgetExpired(): void {
    const now = clock();
    for (const record of remembered.values()) if (record.expiresAt <= now) forget(record.sessionId);
  }

  /**
   * Forgets remembered sessions the store no longer holds (another replica ended them), a slice per
   * tick so that the cost stays flat however many are remembered. Only when the marker is the same
   * after the look as before: a session missing from a store that has just lost its data must stay.
   */
  async function reconcileSlice(): Promise<void> {
    if (restoring !== undefined || known === undefined) return;
    if (toReconcile.length === 0) toReconcile = [...remembered.keys()];
    const ids = toReconcile.splice(0, reconcileSliceSize);
    const before = known;
    const found = await Promise.all(ids.map((id) => store.get(id)));
    await check();
    if (known !== before || restoring !== undefined) return;
    ids.forEach((id, i) => {
      if (found[i] === undefined) forget(id);
    });
  }

  /** Compares the store's marker with the one this replica knows; a change starts a restore. */
  async function check(): Promise<void> {
    const marker = await store.epochMarker(`${randomUUID()}@${new Date(clock()).toISOString()}`);
    if (known === undefined) known = marker;
    if (marker === known) return;
    const previous = known;
    known = marker;
    holdUntil = clock() + holdMs;
    metrics.storeDataLoss.inc();
    forgetExpired();
    logger.error(
      { previousEpoch: previous, epoch: marker, remembered: remembered.size },
      'the session store lost its data; registering again the sessions this replica created',
    );
    const run = (restoring ?? Promise.resolve()).then(restoreAll).finally(() => {
      if (restoring === run) restoring = undefined;
    });
    restoring = run;
  }

  /** Every remembered session, in rounds: what a round could not register is tried again. */
  async function restoreAll(): Promise<void> {
    let pending = [...remembered.values()];
    const total = pending.length;
    for (const pause of [0, ...restoreRetryPausesMs]) {
      if (pending.length === 0) break;
      await sleep(pause);
      const failed: SessionRecord[] = [];
      for (let i = 0; i < pending.length; i += restoreBatch) {
        await Promise.all(
          pending.slice(i, i + restoreBatch).map((record) =>
            restore(record).catch((err: unknown) => {
              logger.warn({ err, sessionId: record.sessionId }, 'could not register a session again');
              failed.push(record);
            }),
          ),
        );
      }
      pending = failed.filter((record) => remembered.has(record.sessionId));
    }
    const lost = pending.map((record) => record.sessionId);
    logger.info({ restored: total - lost.length }, 'sessions registered again after the data loss');
    if (lost.length > 0 || forgottenForRoom > 0) {
      logger.error(
        { lost, forgottenForRoom },
        'sessions lost with the store: nobody can list or end them here; they end upstream by user_absent_timeout',
      );
    }
  }

  async function restore(record: SessionRecord): Promise<void> {
    const reservationId = `restore:${record.sessionId}`;
    // The session is live upstream already: it is registered whatever the caps say, and counts.
    const reserved = await store.reserve({
      reservationId,
      userId: record.userId,
      ...(record.tenantId === undefined ? {} : { tenantId: record.tenantId }),
      perUserCap: Number.MAX_SAFE_INTEGER,
      globalCap: 0,
      policy: 'reject',
      reservationTtlMs: restoreHoldMs,
      evictionGraceMs: 0,
    });
    if (!reserved.ok) throw new Error(`restore refused: ${reserved.reason}`);
    await store.commit(reservationId, record);
    if (!remembered.has(record.sessionId)) {
      // It ended meanwhile (this replica saw it): the registration just made must not outlive it.
      await store.finishEnd(record.sessionId);
      return;
    }
    const reason = ending.get(record.sessionId);
    if (reason !== undefined) await store.requestEnd({ sessionId: record.sessionId, reason, dueAt: clock() });
  }

  function assertCreatesAllowed(): void {
    if (restoring === undefined && clock() >= holdUntil) return;
    throw new AppError(
      'not-ready',
      'The session store is being restored after it lost its data; try again shortly.',
      { retryAfterSeconds: Math.max(1, Math.ceil((holdUntil - clock()) / 1000)) },
    );
  }

  /**
   * The store as the workflows use it: it remembers what this replica registers and forgets what
   * it sees end, and a reservation counts only if the store still holds its data afterwards (a
   * reservation made in a store that had just lost its data is released and refused).
   */
  function track(inner: SessionStore): SessionStore {
    return {
      ...inner,
      // Each passes every argument on as it came: the ports may grow parameters.
      async reserve(...args) {
        const [req] = args;
        assertCreatesAllowed();
        const reserved = await inner.reserve(...args);
        if (!reserved.ok) return reserved;
        // The reservation read the marker in the same step: unchanged, nothing to check.
        if (known !== undefined && reserved.epoch === known) return reserved;
        try {
          await check();
          assertCreatesAllowed();
        } catch (err) {
          await inner.release(req.reservationId).catch(() => undefined);
          throw err;
        }
        return reserved;
      },
      async commit(...args) {
        await inner.commit(...args);
        remember(args[1]);
      },
      async requestEnd(...args) {
        const [req] = args;
        const record = await inner.requestEnd(...args);
        if (record !== undefined && remembered.has(record.sessionId))
          ending.set(record.sessionId, req.reason);
        return record;
      },
      async finishEnd(...args) {
        const record = await inner.finishEnd(...args);
        forget(args[0]);
        return record;
      },
      async sweepExpired(...args) {
        const swept = await inner.sweepExpired(...args);
        for (const record of swept) forget(record.sessionId);
        return swept;
      },
    };
  }

  return {
    track,
    start(): void {
      const tick = () => {
        forgetExpired();
        // An unreachable store is readiness's business; the next tick checks again.
        check()
          .then(reconcileSlice)
          .catch(() => undefined);
      };
      tick();
      timer = setInterval(tick, checkIntervalMs);
      timer.unref();
    },
    stop(): void {
      clearInterval(timer);
    },
    /** Sessions remembered now (tests). */
    rememberedCount: (): number => remembered.size,
  };
}
