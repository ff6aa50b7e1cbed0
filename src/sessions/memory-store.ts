import { randomUUID } from 'node:crypto';
import { newestFirst, oldestFirst } from './record-order';
import {
  retentionSlackMs,
  type IdempotencyBegin,
  type ReserveResult,
  type SessionRecord,
  type SessionStore,
  type StoredResponse,
} from './store';

export interface MemoryStoreOptions {
  /** Epoch ms; injectable so that tests can move time. */
  clock?: () => number;
}

interface Reservation {
  userId: string;
  lapse: number;
}

interface IdempotencyEntry {
  state: 'pending' | 'completed';
  fingerprint: string;
  response?: StoredResponse;
  lapse: number;
}

/** How often lapsed entries nobody asks about again are swept out. */
const sweepIntervalMs = 1_000;

/**
 * The single-process store (no REDIS_URL). Every method runs to completion without awaiting, so
 * each is atomic with respect to every other caller in this process.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): SessionStore {
  const now = options.clock ?? Date.now;
  const sessions = new Map<string, SessionRecord>();
  const reservations = new Map<string, Reservation>();
  const idempotency = new Map<string, Map<string, IdempotencyEntry>>();
  let lastSweep = -Infinity;

  const isLive = (record: SessionRecord, at: number) => record.expiresAt + retentionSlackMs > at;

  function purge(at: number): void {
    for (const [id, record] of sessions) if (!isLive(record, at)) sessions.delete(id);
    for (const [id, reservation] of reservations) if (reservation.lapse <= at) reservations.delete(id);
    if (at - lastSweep < sweepIntervalMs) return;
    lastSweep = at;
    for (const [userId, entries] of idempotency) {
      for (const [key, entry] of entries) if (entry.lapse <= at) entries.delete(key);
      if (entries.size === 0) idempotency.delete(userId);
    }
  }

  function liveIdempotency(userId: string, key: string, at: number): IdempotencyEntry | undefined {
    const entry = idempotency.get(userId)?.get(key);
    return entry && entry.lapse > at ? entry : undefined;
  }

  function setIdempotency(userId: string, key: string, entry: IdempotencyEntry): void {
    const entries = idempotency.get(userId) ?? new Map<string, IdempotencyEntry>();
    entries.set(key, entry);
    idempotency.set(userId, entries);
  }

  function userSessions(userId: string): SessionRecord[] {
    return [...sessions.values()].filter((record) => record.userId === userId);
  }

  return {
    kind: 'memory',

    async reserve(req): Promise<ReserveResult> {
      const at = now();
      purge(at);
      const own = userSessions(req.userId).sort(oldestFirst);
      const ownPending = [...reservations.values()].filter((r) => r.userId === req.userId).length;
      const userCount = own.length + ownPending;
      let evictCount = 0;
      if (userCount >= req.perUserCap) {
        evictCount = userCount - req.perUserCap + 1;
        if (req.policy !== 'replace-oldest' || evictCount > own.length)
          return { ok: false, reason: 'user-cap' };
      }
      const globalCount = sessions.size + reservations.size;
      if (req.globalCap > 0 && globalCount - evictCount >= req.globalCap)
        return { ok: false, reason: 'global-cap' };

      const evicted = own.slice(0, evictCount);
      for (const record of evicted) sessions.delete(record.sessionId);
      const reservationId = randomUUID();
      reservations.set(reservationId, { userId: req.userId, lapse: at + req.reservationTtlMs });
      return { ok: true, reservationId, evicted };
    },

    async commit(reservationId, record) {
      const at = now();
      purge(at);
      const reservation = reservations.get(reservationId);
      if (!reservation || reservation.userId !== record.userId) {
        throw new Error('The reservation no longer exists (it lapsed or was released)');
      }
      reservations.delete(reservationId);
      sessions.set(record.sessionId, { ...record });
    },

    async release(reservationId) {
      reservations.delete(reservationId);
    },

    async get(sessionId) {
      const record = sessions.get(sessionId);
      return record && isLive(record, now()) ? { ...record } : undefined;
    },

    async listByUser(userId) {
      purge(now());
      return userSessions(userId)
        .sort(newestFirst)
        .map((record) => ({ ...record }));
    },

    async remove(sessionId, userId) {
      const record = sessions.get(sessionId);
      if (!record || (userId !== undefined && record.userId !== userId)) return undefined;
      sessions.delete(sessionId);
      return isLive(record, now()) ? record : undefined;
    },

    async countAll() {
      purge(now());
      return sessions.size;
    },

    async idempotencyBegin(userId, key, fingerprint, pendingTtlMs): Promise<IdempotencyBegin> {
      const at = now();
      purge(at);
      const entry = liveIdempotency(userId, key, at);
      if (!entry) {
        setIdempotency(userId, key, { state: 'pending', fingerprint, lapse: at + pendingTtlMs });
        return { state: 'started' };
      }
      if (entry.fingerprint !== fingerprint) return { state: 'mismatch' };
      if (entry.state === 'completed' && entry.response) {
        return { state: 'completed', response: structuredClone(entry.response) };
      }
      return { state: 'in-progress' };
    },

    async idempotencyComplete(userId, key, response, ttlMs) {
      const at = now();
      const entry = liveIdempotency(userId, key, at);
      if (!entry) return;
      const stored = structuredClone(response);
      setIdempotency(userId, key, { ...entry, state: 'completed', response: stored, lapse: at + ttlMs });
    },

    async idempotencyAbandon(userId, key) {
      if (idempotency.get(userId)?.get(key)?.state === 'pending') idempotency.get(userId)?.delete(key);
    },

    rateLimitStore() {
      return undefined;
    },

    async ping() {},

    async close() {},
  };
}
