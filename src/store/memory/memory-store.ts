import { createMemoryBudgets } from './memory-budgets';
import { createMemoryQueue } from './memory-queue';
import { MinHeap } from './min-heap';
import { endingFirst, newestFirst } from '../record-order';
import {
  defaultOutboxMaxJobs,
  ReservationLostError,
  retentionSlackMs,
  terminationJobId,
  type Grant,
  type IdempotencyBegin,
  type ReserveResult,
  type SessionRecord,
  type SessionStore,
  type TerminationPayload,
} from '../ports';

export interface MemoryStoreOptions {
  /** Epoch ms; injectable so that tests can move time. */
  clock?: () => number;
  /** Undelivered events kept at most (oldest dropped beyond it); default defaultOutboxMaxJobs. */
  outboxMaxJobs?: number;
  /** Days of usage kept (USAGE_RETENTION_DAYS); default 400. */
  usageRetentionDays?: number;
}

interface Reservation {
  userId: string;
  tenantId?: string;
  lapse: number;
  victims: SessionRecord[];
  /** The session it became, once committed; kept until it lapses so that a repeated commit is a no-op. */
  committed?: string;
  grant?: Grant;
}

/** What a reservation answers, the first time and every repeat. */
function granted(reservation: Reservation, epoch: string | undefined): ReserveResult {
  const result: ReserveResult = { ok: true, victims: reservation.victims.map(copyRecord) };
  if (reservation.grant !== undefined) result.grant = copyGrant(reservation.grant);
  if (epoch !== undefined) result.epoch = epoch;
  return result;
}

/**
 * Copies of what the store hands out and takes in, so that no caller shares its objects: by hand,
 * as their shapes are known (structuredClone costs several times as much on every create).
 */
function copyRecord(record: SessionRecord): SessionRecord {
  const copy = { ...record };
  if (record.charge !== undefined) copy.charge = { ...record.charge, held: [...record.charge.held] };
  return copy;
}

function copyGrant(grant: Grant): Grant {
  return {
    seconds: grant.seconds,
    charge: { ...grant.charge, held: [...grant.charge.held] },
    crossings: grant.crossings.map((crossing) => ({ ...crossing })),
  };
}

function count(counts: Map<string, number>, key: string, delta: number): void {
  const next = (counts.get(key) ?? 0) + delta;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}

function index(sets: Map<string, Set<string>>, key: string, id: string, add: boolean): void {
  const set = sets.get(key) ?? new Set<string>();
  if (add) set.add(id);
  else set.delete(id);
  if (set.size > 0) sets.set(key, set);
  else sets.delete(key);
}

interface IdempotencyEntry {
  state: 'pending' | 'completed';
  fingerprint: string;
  attemptId: string;
  response?: unknown;
  lapse: number;
}

/**
 * The single-process store (no REDIS_URL). Every method runs to completion without awaiting, so
 * each is atomic with respect to every other caller in this process. Nothing scans the whole store:
 * users index their sessions, counts are kept as they change, and lapses come off heaps.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): SessionStore {
  const now = options.clock ?? Date.now;
  const sessions = new Map<string, { record: SessionRecord; lapse: number }>();
  const byUser = new Map<string, Set<string>>();
  const byTenant = new Map<string, Set<string>>();
  const reservations = new Map<string, Reservation>();
  const pendingByUser = new Map<string, number>();
  const pendingByTenant = new Map<string, number>();
  let pendingTotal = 0;
  const idempotency = new Map<string, IdempotencyEntry>();
  const lapses = {
    session: new MinHeap<string>(),
    reservation: new MinHeap<string>(),
    idem: new MinHeap<string>(),
  };
  /** Sessions that lapsed, waiting for sweepExpired to hand them out. */
  const expired: SessionRecord[] = [];
  const queue = createMemoryQueue(now, options.outboxMaxJobs ?? defaultOutboxMaxJobs);
  const budgets = createMemoryBudgets(options.usageRetentionDays ?? 400);

  const idemKey = (userId: string, key: string) => JSON.stringify([userId, key]);
  /** This process's memory cannot lose its data: the first marker stays. */
  let epoch: string | undefined;

  function addPending(reservation: Pick<Reservation, 'userId' | 'tenantId'>, delta: number): void {
    count(pendingByUser, reservation.userId, delta);
    if (reservation.tenantId !== undefined) count(pendingByTenant, reservation.tenantId, delta);
    pendingTotal += delta;
  }

  function unregister(sessionId: string): SessionRecord | undefined {
    const entry = sessions.get(sessionId);
    if (!entry) return undefined;
    sessions.delete(sessionId);
    index(byUser, entry.record.userId, sessionId, false);
    if (entry.record.tenantId !== undefined) index(byTenant, entry.record.tenantId, sessionId, false);
    return entry.record;
  }

  function register(record: SessionRecord): void {
    unregister(record.sessionId);
    const lapse = record.expiresAt + retentionSlackMs;
    sessions.set(record.sessionId, { record: copyRecord(record), lapse });
    lapses.session.push(lapse, record.sessionId);
    index(byUser, record.userId, record.sessionId, true);
    if (record.tenantId !== undefined) index(byTenant, record.tenantId, record.sessionId, true);
    if (record.charge !== undefined) budgets.keepHold(record.charge.holdId, lapse);
  }

  function dropReservation(id: string): void {
    const reservation = reservations.get(id);
    if (!reservation) return;
    if (reservation.committed === undefined) {
      addPending(reservation, -1);
      budgets.releaseHold(id);
    }
    reservations.delete(id);
  }

  /** Retires everything whose lapse time has passed; lapsed sessions wait in `expired`. */
  function expire(at: number): void {
    budgets.expire(at);
    for (let e = lapses.session.popDue(at); e; e = lapses.session.popDue(at)) {
      if (sessions.get(e.key)?.lapse !== e.at) continue;
      const record = unregister(e.key);
      if (record) {
        // Nothing ended it sooner: Avaturn did at its max_duration.
        budgets.settle(record, record.expiresAt, at);
        expired.push(record);
      }
    }
    for (let e = lapses.reservation.popDue(at); e; e = lapses.reservation.popDue(at)) {
      if (reservations.get(e.key)?.lapse === e.at) dropReservation(e.key);
    }
    for (let e = lapses.idem.popDue(at); e; e = lapses.idem.popDue(at)) {
      if (idempotency.get(e.key)?.lapse === e.at) idempotency.delete(e.key);
    }
  }

  function userSessions(userId: string): SessionRecord[] {
    return [...(byUser.get(userId) ?? [])].map((id) => sessions.get(id)!.record);
  }

  function queueTermination(payload: TerminationPayload, dueAt: number): void {
    const id = terminationJobId(payload.record.sessionId);
    queue.enqueue({
      id,
      topic: 'terminate',
      partition: id,
      payload,
      dueAt,
      dropAt: payload.record.expiresAt,
    });
  }

  const isEnding = (record: SessionRecord) => queue.has(terminationJobId(record.sessionId));
  /** Idempotent answers are any JSON value. */
  const copy = <T>(value: T): T => structuredClone(value);

  return {
    kind: 'memory',

    async reserve(req): Promise<ReserveResult> {
      const at = now();
      expire(at);
      const existing = reservations.get(req.reservationId);
      if (existing) {
        if (existing.userId !== req.userId) throw new Error('reservation id reused for another user');
        return granted(existing, epoch);
      }
      const own = userSessions(req.userId).sort(endingFirst(isEnding));
      const userCount = own.length + (pendingByUser.get(req.userId) ?? 0);
      const userCap = budgets.overridesOf({ scope: 'user', id: req.userId }).maxSessions ?? req.perUserCap;
      let evictCount = 0;
      if (userCount >= userCap) {
        evictCount = userCount - userCap + 1;
        if (req.policy !== 'replace-oldest' || evictCount > own.length)
          return { ok: false, reason: 'user-cap' };
      }
      if (req.tenantId !== undefined) {
        const tenantCap =
          budgets.overridesOf({ scope: 'tenant', id: req.tenantId }).maxSessions ?? req.tenantCap ?? 0;
        const tenantCount =
          (byTenant.get(req.tenantId)?.size ?? 0) + (pendingByTenant.get(req.tenantId) ?? 0);
        if (tenantCap > 0 && tenantCount - evictCount >= tenantCap)
          return { ok: false, reason: 'tenant-cap' };
      }
      if (req.globalCap > 0 && sessions.size + pendingTotal - evictCount >= req.globalCap)
        return { ok: false, reason: 'global-cap' };

      const victims = own.slice(0, evictCount);
      const lapse = at + req.reservationTtlMs;
      let grant: Grant | undefined;
      if (req.budget !== undefined) {
        const outcome = budgets.reserve({ ...req, budget: req.budget }, victims, at, lapse);
        if ('reason' in outcome) return outcome;
        grant = outcome;
      }
      for (const record of victims)
        queueTermination({ reason: 'replaced', record, requestedAt: at }, at + req.evictionGraceMs);
      const reservation: Reservation = { userId: req.userId, lapse, victims: victims.map(copyRecord) };
      if (req.tenantId !== undefined) reservation.tenantId = req.tenantId;
      if (grant !== undefined) reservation.grant = grant;
      reservations.set(req.reservationId, reservation);
      lapses.reservation.push(lapse, req.reservationId);
      addPending(reservation, 1);
      return granted(reservation, epoch);
    },

    async commit(reservationId, record, outbox = []) {
      expire(now());
      const reservation = reservations.get(reservationId);
      if (!reservation || reservation.userId !== record.userId) throw new ReservationLostError();
      if (reservation.committed !== undefined) {
        if (reservation.committed === record.sessionId) return;
        throw new ReservationLostError();
      }
      reservation.committed = record.sessionId;
      addPending(reservation, -1);
      register(record);
      for (const job of outbox) queue.enqueue(job);
    },

    async release(reservationId) {
      dropReservation(reservationId);
    },

    async get(sessionId) {
      const entry = sessions.get(sessionId);
      return entry && entry.lapse > now() ? copyRecord(entry.record) : undefined;
    },

    async listByUser(userId) {
      expire(now());
      return userSessions(userId).sort(newestFirst).map(copyRecord);
    },

    async listByTenant(tenantId) {
      expire(now());
      return [...(byTenant.get(tenantId) ?? [])]
        .map((id) => sessions.get(id)!.record)
        .sort(newestFirst)
        .map(copyRecord);
    },

    async listAll(limit) {
      expire(now());
      // An operator's call, not the request path: sorting every session is acceptable here.
      return [...sessions.values()]
        .map((entry) => entry.record)
        .sort(newestFirst)
        .slice(0, limit)
        .map(copyRecord);
    },

    async countAll() {
      expire(now());
      return sessions.size;
    },

    async requestEnd(req) {
      expire(now());
      const record = sessions.get(req.sessionId)?.record;
      if (record === undefined) {
        if (req.ownerId === undefined && req.known?.sessionId === req.sessionId)
          queueTermination({ reason: req.reason, record: req.known, requestedAt: now() }, req.dueAt);
        return undefined;
      }
      if (req.ownerId !== undefined && record.userId !== req.ownerId) return undefined;
      queueTermination({ reason: req.reason, record, requestedAt: now() }, req.dueAt);
      return copyRecord(record);
    },

    async finishEnd(sessionId, outbox = [], ended) {
      const jobId = terminationJobId(sessionId);
      const queued = queue.has(jobId);
      queue.ack(jobId);
      const record = unregister(sessionId);
      if (queued || record) for (const job of outbox) queue.enqueue(job);
      const charged = record ?? (ended?.record?.sessionId === sessionId ? ended.record : undefined);
      if (ended !== undefined && charged !== undefined) budgets.settle(charged, ended.at, now());
      return record;
    },

    async sweepExpired(limit, outboxFor = () => []) {
      expire(now());
      const swept = expired.splice(0, limit);
      for (const record of swept) for (const job of outboxFor(record)) queue.enqueue(job);
      return swept;
    },

    async enqueue(job) {
      queue.enqueue(job);
    },

    async claimJobs(limit, leaseMs, topic) {
      return queue.claim(limit, leaseMs, topic);
    },

    async ackJob(jobId) {
      queue.ack(jobId);
    },

    async retryJob(jobId, dueAt) {
      queue.retry(jobId, dueAt);
    },

    async queueDepth() {
      return queue.depth();
    },

    async outboxDropped() {
      return queue.dropped();
    },

    async idempotencyBegin(userId, key, fingerprint, pendingTtlMs, attemptId): Promise<IdempotencyBegin> {
      const at = now();
      expire(at);
      const id = idemKey(userId, key);
      const entry = idempotency.get(id);
      if (!entry) {
        const lapse = at + pendingTtlMs;
        idempotency.set(id, { state: 'pending', fingerprint, attemptId, lapse });
        lapses.idem.push(lapse, id);
        return { state: 'started' };
      }
      if (entry.fingerprint !== fingerprint) return { state: 'mismatch' };
      if (entry.state === 'completed' && entry.response)
        return { state: 'completed', response: copy(entry.response) };
      return entry.attemptId === attemptId ? { state: 'started' } : { state: 'in-progress' };
    },

    async idempotencyComplete(userId, key, response, ttlMs) {
      const at = now();
      expire(at);
      const id = idemKey(userId, key);
      const entry = idempotency.get(id);
      if (!entry) return;
      const lapse = at + ttlMs;
      idempotency.set(id, { ...entry, state: 'completed', response: copy(response), lapse });
      lapses.idem.push(lapse, id);
    },

    async idempotencyAbandon(userId, key, attemptId) {
      const id = idemKey(userId, key);
      const entry = idempotency.get(id);
      if (entry?.state === 'pending' && entry.attemptId === attemptId) idempotency.delete(id);
    },

    async epochMarker(candidate) {
      epoch ??= candidate;
      return epoch;
    },

    async limitOverrides(subject) {
      return { ...budgets.overridesOf(subject) };
    },

    async setLimitOverrides(subject, patch) {
      return budgets.setOverrides(subject, patch);
    },

    async meterUse(meters) {
      expire(now());
      return budgets.meterUse(meters);
    },

    async usage(days, groupBy) {
      expire(now());
      return budgets.usage(days, groupBy);
    },

    rateLimitStore() {
      return undefined;
    },

    async ping() {},

    async evictionPolicy() {
      return undefined;
    },

    async close() {},
  };
}
