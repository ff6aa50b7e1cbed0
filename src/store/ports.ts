import type { Store as RateLimitStore } from 'express-rate-limit';
import type { EngineType, SessionLimitPolicy } from '../config/types';
import type {
  BudgetCrossing,
  BudgetRequest,
  Charge,
  LimitOverrides,
  LimitsPatch,
  LimitSubject,
  MeterRef,
  UsageGroup,
  UsageRow,
} from './budgets';
import type { EndReason } from './end-reasons';

/** A live session the broker created and is accountable for. Times are epoch milliseconds. */
export interface SessionRecord {
  sessionId: string;
  userId: string;
  profile: string;
  engine: EngineType;
  createdAt: number;
  expiresAt: number;
  /** The caller's tenant, when AUTH_TENANT_CLAIM is set. */
  tenantId?: string;
  /** What the session holds of the minute budgets and where its use is charged; see budgets.ts. */
  charge?: Charge;
}

export interface ReserveRequest {
  /** Named by the caller, so that a retry after a lost reply gets the same answer. */
  reservationId: string;
  userId: string;
  tenantId?: string;
  /** Live sessions plus pending reservations one user may hold (a run-time override wins). */
  perUserCap: number;
  /** Live sessions plus pending reservations across one tenant's users; 0 = no cap (an override wins). */
  tenantCap?: number;
  /** Live sessions plus pending reservations across all users; 0 = no cap. */
  globalCap: number;
  policy: SessionLimitPolicy;
  /** How long an uncommitted reservation holds its slot before it lapses by itself (crashed replica). */
  reservationTtlMs: number;
  /** How long the caller has to end evicted sessions itself before the termination queue takes them. */
  evictionGraceMs: number;
  /**
   * The minute budgets, checked and held in the same atomic step as the slot. Without it nothing is
   * held, and the session's use is not charged.
   */
  budget?: BudgetRequest;
}

/** What a reservation holds of the budgets, when it was asked to. */
export interface Grant {
  /** Seconds the session may run: the profile's max_duration, or less when a budget has less left. */
  seconds: number;
  /** To put on the session's record, so that its end is charged where it began. */
  charge: Charge;
  /** Budgets this reservation took past 80 % or 100 % for the first time in their window. */
  crossings: BudgetCrossing[];
}

export type ReserveResult =
  | {
      ok: true;
      /**
       * With `replace-oldest`: the user's sessions that must end before the new one may be created.
       * They stay registered (listed, deletable) and were queued for termination in the same atomic
       * step; the caller ends them (finishEnd once Avaturn confirms) or leaves them to the queue.
       */
      victims: SessionRecord[];
      /** Present when the request had a budget. */
      grant?: Grant;
      /**
       * The store's data-loss marker as this reservation found it (absent when none is set; see
       * StoreEpoch), read in the same step so that checking it costs no extra round trip.
       */
      epoch?: string;
    }
  | { ok: false; reason: 'user-cap' | 'global-cap' | 'tenant-cap' }
  | {
      ok: false;
      reason: 'budget';
      scope: BudgetCrossing['scope'];
      window: BudgetCrossing['window'];
      /** Epoch ms of the earliest window reset that gives at least a minute back. */
      retryAt: number;
    };

/** `response` is what the first attempt stored: the caller's own JSON value, kept as it was given. */
export type IdempotencyBegin =
  | { state: 'started' }
  | { state: 'in-progress' }
  | { state: 'mismatch' }
  | { state: 'completed'; response: unknown };

/**
 * Kinds of work the durable queue carries, in the order they are claimed (terminations ahead of
 * events); each has one handler in the queue worker.
 */
export const JOB_TOPICS = ['terminate', 'event'] as const;
export type JobTopic = (typeof JOB_TOPICS)[number];

/**
 * Work that must happen even if this process dies: ending a session, delivering an event. Jobs of one
 * partition run one at a time, in the order they were enqueued.
 */
export interface Job {
  id: string;
  topic: JobTopic;
  partition: string;
  payload: unknown;
  /** After this (epoch ms) the job is pointless and is dropped instead of tried again. */
  dropAt: number;
  /** Failed attempts so far. */
  attempts: number;
}

export interface NewJob extends Omit<Job, 'attempts'> {
  /** Not before this time (epoch ms). */
  dueAt: number;
}

export interface EndRequest {
  sessionId: string;
  reason: EndReason;
  /** Only end it if it belongs to this user; otherwise nothing changes and undefined is returned. */
  ownerId?: string;
  /** When the queue's worker may first try (the caller tries at once itself). */
  dueAt: number;
  /**
   * The session as the caller knows it, for one that was never registered (a compensation): it is
   * queued all the same, and dropped once past its expiresAt. Ignored when the session is registered.
   */
  known?: SessionRecord;
}

/** What a termination job carries: enough to end the session and to report on it afterwards. */
export interface TerminationPayload {
  reason: EndReason;
  record: SessionRecord;
  /**
   * When the end was asked for (epoch ms): a later attempt that finds the session already gone
   * charges it to then, not to its own time (the replica that asked may have died after Avaturn
   * ended it).
   */
  requestedAt?: number;
}

export const terminationJobId = (sessionId: string) => `terminate:${sessionId}`;

/*
 * The store is one backend (memory or Redis) seen through one port per consumer. Every method is
 * atomic with respect to every other caller of the same backend, and safe to call again with the
 * same arguments after a reply was lost (the second call gets the first call's answer, or a no-op).
 * Steps that must be atomic together (commit + outbox, end + enqueue) are single methods of one port.
 */

/** The live sessions and their concurrency slots: the session service and the terminations. */
export interface SessionRegistry {
  /** Take a slot for a session about to be created; see ReserveResult. */
  reserve(req: ReserveRequest): Promise<ReserveResult>;
  /**
   * Turn a reservation into a registered session, which lapses by itself at `expiresAt +
   * retentionSlackMs`. Committing the same reservation with the same record again is a no-op.
   * Throws ReservationLostError if the reservation lapsed or was released. `outbox` jobs (lifecycle
   * events) are queued in the same atomic step, and only by the call that registers.
   */
  commit(reservationId: string, record: SessionRecord, outbox?: NewJob[]): Promise<void>;
  /** Give a reservation's slot back. Idempotent; unknown ids are ignored. */
  release(reservationId: string): Promise<void>;

  get(sessionId: string): Promise<SessionRecord | undefined>;
  /** The user's registered sessions (those being ended too), newest first. */
  listByUser(userId: string): Promise<SessionRecord[]>;
  /** The tenant's registered sessions, newest first. */
  listByTenant(tenantId: string): Promise<SessionRecord[]>;
  /** Every registered session, newest first, at most `limit`. */
  listAll(limit: number): Promise<SessionRecord[]>;
  /** Registered sessions across all users. */
  countAll(): Promise<number>;

  /**
   * Queues the session's termination (once: a second request changes nothing). A registered
   * session stays registered until finishEnd. Returns the registered record, or undefined when
   * the session is not registered (or not `ownerId`'s: then nothing is queued either).
   */
  requestEnd(req: EndRequest): Promise<SessionRecord | undefined>;
  /**
   * Avaturn confirmed the session ended (or it is past saving): unregister it and drop its
   * termination job, queueing `outbox` in the same step if there was anything to finish. With
   * `ended`, the session's charge is settled in the same step (once per session, however often this
   * is called): its hold is replaced by the seconds it ran until `ended.at` (at most to expiresAt).
   * `ended.record` stands in for a session that was never registered (a compensation). Returns
   * the record it removed, if it was registered.
   */
  finishEnd(
    sessionId: string,
    outbox?: NewJob[],
    ended?: { at: number; record?: SessionRecord },
  ): Promise<SessionRecord | undefined>;
  /**
   * Unregisters up to `limit` sessions whose lapse time has passed, queueing each one's
   * `outboxFor` jobs and settling its charge (it ran to its expiresAt) in the same step, and
   * returns them.
   */
  sweepExpired(limit: number, outboxFor?: (record: SessionRecord) => NewJob[]): Promise<SessionRecord[]>;
}

/** The durable job queue: the queue worker and the job handlers. */
export interface JobQueue {
  /** Adds a job; a job id already queued is left as it is. */
  enqueue(job: NewJob): Promise<void>;
  /**
   * Takes up to `limit` due jobs of `topic` (without one: of every topic, in JOB_TOPICS order),
   * each the head of its partition, and hides each partition from other claimers for `leaseMs`
   * (after which a job nobody settled is handed out again). Each topic has its own due set, so a
   * backlog of one never slows the claims of another.
   */
  claimJobs(limit: number, leaseMs: number, topic?: JobTopic): Promise<Job[]>;
  /** The job is done (or dropped): remove it and let its partition's next job run. */
  ackJob(jobId: string): Promise<void>;
  /** The job failed: try again at `dueAt`. */
  retryJob(jobId: string, dueAt: number): Promise<void>;
  /** Jobs waiting, per topic. */
  queueDepth(): Promise<Record<JobTopic, number>>;
  /**
   * Event jobs dropped so far because the outbox was full (its cap is the store's `outboxMaxJobs`):
   * one count shared by every replica of the backend.
   */
  outboxDropped(): Promise<number>;
}

/** Undelivered events a store keeps unless told otherwise (EVENTS_OUTBOX_MAX_JOBS). */
export const defaultOutboxMaxJobs = 100_000;

/**
 * Idempotency keys and the answers stored under them: the HTTP layer's replay. `userId` and `key`
 * name an entry and are opaque to the store (the HTTP layer passes a keyed hash of the user and the
 * Idempotency-Key, and a sealed answer: see http/sealed-replay.ts).
 */
export interface IdempotencyStore {
  idempotencyBegin(
    userId: string,
    key: string,
    fingerprint: string,
    pendingTtlMs: number,
    /** Names this attempt, so that retrying a begin whose reply was lost still answers `started`. */
    attemptId: string,
  ): Promise<IdempotencyBegin>;
  /** Stores `response` (any JSON value) as the key's answer. */
  idempotencyComplete(userId: string, key: string, response: unknown, ttlMs: number): Promise<void>;
  /** Forget a key this attempt started, so that the client may retry it (the attempt failed). */
  idempotencyAbandon(userId: string, key: string, attemptId: string): Promise<void>;
}

/** Run-time limit overrides, budget meters and the usage ledger: the limits and usage routes. */
export interface BudgetLedger {
  /** The overrides set for one user or tenant (absent fields: the default applies). */
  limitOverrides(subject: LimitSubject): Promise<LimitOverrides>;
  /** Applies a patch (a number sets, null clears, absent leaves) and returns the overrides now in force. */
  setLimitOverrides(subject: LimitSubject, patch: LimitsPatch): Promise<LimitOverrides>;
  /** Seconds each meter has used (settled) plus what live sessions and pending creates hold. */
  meterUse(meters: MeterRef[]): Promise<number[]>;
  /** Settled sessions and seconds over these days (`YYYY-MM-DD`), grouped, largest first. */
  usage(days: string[], groupBy: UsageGroup): Promise<UsageRow[]>;
}

/** Request-rate counters: the rate limits. */
export interface RateLimitStores {
  /** A store for express-rate-limit sharing this backend; undefined means the library's memory store. */
  rateLimitStore(prefix: string): RateLimitStore | undefined;
}

/** Readiness. */
export interface StoreHealth {
  readonly kind: 'memory' | 'redis';
  /**
   * Resolves when the store takes writes; rejects otherwise (unreachable, out of memory, read-only).
   * The answer may be up to about a second old.
   */
  ping(): Promise<void>;
  /** Redis's `maxmemory-policy` where the server tells it; undefined otherwise (and for memory). */
  evictionPolicy(): Promise<string | undefined>;
}

/**
 * A marker of the backend's data, for noticing that it lost what it held (a Redis restarted without
 * persistence, a failover that dropped writes): it changes only when the backend lost it.
 */
export interface StoreEpoch {
  /** The backend's marker; `candidate` becomes it (and is returned) when the backend holds none. */
  epochMarker(candidate: string): Promise<string>;
}

/**
 * Everything that must hold across requests and across replicas, as one backend: the session
 * registry, the concurrency slots, the idempotency keys, the rate counters and the durable queue.
 */
export interface SessionStore
  extends
    SessionRegistry,
    JobQueue,
    IdempotencyStore,
    BudgetLedger,
    RateLimitStores,
    StoreHealth,
    StoreEpoch {
  close(): Promise<void>;
}

/** A registered session lapses this long after its expiresAt (clock skew between replicas and Avaturn). */
export const retentionSlackMs = 60_000;

export class ReservationLostError extends Error {
  constructor() {
    super('The reservation no longer exists (it lapsed or was released)');
    this.name = 'ReservationLostError';
  }
}
