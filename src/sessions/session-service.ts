import { randomUUID } from 'node:crypto';
import type { Config, EngineType, Profile } from '../config/types';
import { AppError, isAppError } from '../errors';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { Grant, ReserveResult, SessionRecord, SessionRegistry } from '../store/ports';
import { avaturnCreateRequest } from '../upstreams/avaturn-create-request';
import { UnusableSessionError } from '../upstreams/avaturn-gateway';
import { externalCredentialId } from '../upstreams/external-engine-minter';
import type { AvaturnGateway, ConversationEngine, CredentialMinter } from '../upstreams/types';
import { UpstreamError } from '../upstreams/upstream-error';
import type { Budgets } from './budgets';
import { sessionCreated, type LifecycleEvent, type LifecycleEvents } from './lifecycle-events';
import type { Terminations } from './terminations';
import { untilAborted } from './until-aborted';

export interface CreatedSession {
  record: SessionRecord;
  token: string;
}

export interface CreateSessionInput {
  userId: string;
  /** The caller's tenant (AUTH_TENANT_CLAIM). */
  tenantId?: string;
  /** As assertProfile found it. */
  profile: Profile;
  /** Aborts when the client has hung up before its answer was written. */
  clientGone?: AbortSignal;
  /**
   * Keep the session when the client hangs up (it sent an Idempotency-Key and can collect it);
   * otherwise a session whose client left is ended at once.
   */
  keepIfClientGone?: boolean;
}

export interface SessionServiceDeps {
  config: Config;
  store: SessionRegistry;
  minters: Partial<Record<EngineType, CredentialMinter>>;
  avaturn: AvaturnGateway;
  terminations: Terminations;
  events: LifecycleEvents;
  metrics: Metrics;
  logger: Logger;
  clock: () => number;
  /** Whether a minted engine came ready-made from the pre-mint pool (for the time-to-session metric). */
  wasPreMinted?: (engine: ConversationEngine) => boolean;
  budgets: Budgets;
}

export type SessionService = ReturnType<typeof createSessionService>;

/**
 * How long a create may hold its slot and its Idempotency-Key: its deadline and a margin, so that
 * only a crashed replica's reservation or pending key lapses by itself.
 */
export const createHoldMs = (timeouts: Config['timeouts']) => timeouts.sessionCreateDeadlineMs + 30_000;

const clientGoneError = () => new AppError('invalid-request', 'The client closed the connection.');

/**
 * Owns every workflow that spends money: creating a session (reserve a slot, end what it replaces,
 * mint, create, register, and compensate on any failure), ending one, and listing them. Routes only
 * translate HTTP in and out.
 */
export function createSessionService(deps: SessionServiceDeps) {
  const { config, store, terminations, events, logger, metrics, clock } = deps;
  const { limits, timeouts } = config;
  const reservationTtlMs = createHoldMs(timeouts);

  /** The profile of that name; unknown-profile when there is none. */
  function assertProfile(name: string): Profile {
    const profile = Object.hasOwn(config.profiles, name) ? config.profiles[name] : undefined;
    if (profile === undefined)
      throw new AppError('unknown-profile', 'No profile with that name is configured.');
    return profile;
  }

  async function create(input: CreateSessionInput): Promise<CreatedSession> {
    const { profile } = input;
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new AppError('upstream-timeout', 'The session could not be created in time.')),
      timeouts.sessionCreateDeadlineMs,
    );
    try {
      return await createWithin(profile, input, deadline.signal);
    } catch (err) {
      metrics.createFailures.inc({ code: isAppError(err) ? err.code : 'internal' });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async function createWithin(
    profile: Profile,
    input: CreateSessionInput,
    deadline: AbortSignal,
  ): Promise<CreatedSession> {
    const { userId, clientGone } = input;
    const minter = deps.minters[profile.engine.type];
    if (minter === undefined) throw new Error(`no minter for engine ${profile.engine.type}`);
    const started = clock();
    const stillWanted = clientGone ? AbortSignal.any([deadline, clientGone]) : deadline;
    stillWanted.throwIfAborted();

    const reservationId = randomUUID();
    const { tenantId } = input;
    const reserving = store.reserve({
      reservationId,
      userId,
      ...(tenantId === undefined ? {} : { tenantId }),
      perUserCap: limits.maxSessionsPerUser,
      tenantCap: limits.maxSessionsPerTenant,
      globalCap: limits.maxSessionsTotal,
      policy: limits.sessionLimitPolicy,
      reservationTtlMs,
      evictionGraceMs: Math.max(0, timeouts.sessionCreateDeadlineMs - (clock() - started)),
      budget: deps.budgets.request(profile, started),
    });
    const releaseSlot = () =>
      reserving.then(
        () =>
          store
            .release(reservationId)
            .catch((err: unknown) =>
              logger.warn({ err }, 'could not release a reservation; it lapses by itself'),
            ),
        // A reserve that failed was answered with its own error (and logged with the request); what
        // it may have taken lapses by itself.
        () => undefined,
      );
    const reserved = await untilAborted(reserving, deadline).catch((err: unknown) => {
      void releaseSlot();
      throw err;
    });
    if (!reserved.ok) {
      metrics.countRejection(reserved.reason);
      if (reserved.reason !== 'budget') throw sessionLimit(reserved.reason);
      metrics.budgetRejections.inc({ scope: reserved.scope, window: reserved.window });
      throw budgetExhausted(reserved, clock());
    }
    const { grant } = reserved;
    if (grant !== undefined) deps.budgets.announce(grant.crossings, userId, clock());
    // A budget with less left than the profile's max_duration clamps it: Avaturn ends the session then.
    const granted = grant === undefined ? profile : { ...profile, maxDurationSeconds: grant.seconds };

    let created: SessionRecord | undefined;
    let registering: Promise<void> | undefined;
    let token: string;
    let preminted: boolean;
    let createdEvent: LifecycleEvent;
    try {
      await endVictims(reserved.victims, deadline);
      const engine = await minter.mint(profile, { userId, signal: stillWanted });
      preminted = deps.wasPreMinted?.(engine) ?? false;
      stillWanted.throwIfAborted();
      // Only the deadline may abort a create: a caller who left must not lose us the session id.
      const session = await deps.avaturn
        .createSession(avaturnCreateRequest(granted, engine), { signal: deadline })
        .catch((err: unknown) => {
          if (err instanceof UnusableSessionError) created = recordOf(err.sessionId, granted, input, grant);
          throw err;
        });
      created = recordOf(session.sessionId, granted, input, grant);
      token = session.token;
      createdEvent = sessionCreated(created, clock(), externalCredentialId(engine));
      registering = store.commit(reservationId, created, events.outbox(createdEvent));
      await untilAborted(registering, deadline);
    } catch (err) {
      const orphan = created;
      if (orphan !== undefined) {
        // Registered or not (the commit may still land), it must end: the queue takes either.
        void (registering ?? Promise.resolve())
          .catch(() => undefined)
          .then(() => terminations.compensate(orphan, 'compensated'));
      }
      void releaseSlot();
      throw err;
    }
    metrics.sessionsCreated.inc({ profile: profile.name, engine: profile.engine.type });
    metrics.timeToSession.observe(
      { engine: profile.engine.type, preminted: String(preminted) },
      (clock() - started) / 1000,
    );
    events.log(createdEvent);
    handOver(created, input);
    return { record: created, token };
  }

  /**
   * replace-oldest: the sessions this one replaces must be confirmed ended before it is created, so
   * that the user is never above the cap upstream. What cannot be ended in time stays registered
   * and queued, and this create fails with 503.
   */
  async function endVictims(victims: SessionRecord[], deadline: AbortSignal): Promise<void> {
    if (victims.length === 0) return;
    await Promise.all(
      victims.map((victim) => terminations.attempt(victim, 'replaced', { signal: deadline, retries: 2 })),
    ).catch((err: unknown) => {
      const retryAfterMs = err instanceof UpstreamError ? err.retryAfterMs : undefined;
      throw new AppError(
        'upstream-unavailable',
        'Your previous session could not be ended in time; try again shortly.',
        { cause: err, retryAfterSeconds: Math.max(1, Math.ceil((retryAfterMs ?? 5_000) / 1000)) },
      );
    });
  }

  /** Without an Idempotency-Key nobody can collect a session whose client left: end it. */
  function handOver(record: SessionRecord, input: CreateSessionInput): void {
    const { clientGone } = input;
    if (clientGone === undefined || input.keepIfClientGone) return;
    const abandon = () => void terminations.compensate(record, 'abandoned');
    if (clientGone.aborted) {
      abandon();
      throw clientGoneError();
    }
    clientGone.addEventListener('abort', abandon, { once: true });
  }

  function recordOf(
    sessionId: string,
    profile: Profile,
    input: CreateSessionInput,
    grant: Grant | undefined,
  ): SessionRecord {
    const createdAt = clock();
    const record: SessionRecord = {
      sessionId,
      userId: input.userId,
      profile: profile.name,
      engine: profile.engine.type,
      createdAt,
      expiresAt: createdAt + profile.maxDurationSeconds * 1000,
    };
    if (input.tenantId !== undefined) record.tenantId = input.tenantId;
    if (grant !== undefined) record.charge = grant.charge;
    return record;
  }

  /** The caller's own session; a foreign or unknown id is not-found, with no upstream call. */
  async function end(userId: string, sessionId: string): Promise<void> {
    const record = await terminations.end(sessionId, 'user', { ownerId: userId });
    if (record === undefined) throw new AppError('not-found', 'No such session.');
  }

  /** Past max_duration Avaturn has ended a session, even while its record is within its slack. */
  function unexpired(records: SessionRecord[]): SessionRecord[] {
    const now = clock();
    return records.filter((record) => record.expiresAt > now);
  }

  async function list(userId: string): Promise<SessionRecord[]> {
    return unexpired(await store.listByUser(userId));
  }

  /** Live sessions of every user, or of one user or tenant, newest first (operators). */
  async function listAll(
    limit: number,
    filter: { user?: string; tenant?: string } = {},
  ): Promise<SessionRecord[]> {
    const { user, tenant } = filter;
    const records =
      user !== undefined
        ? await store.listByUser(user)
        : tenant !== undefined
          ? await store.listByTenant(tenant)
          : await store.listAll(limit);
    return unexpired(records)
      .filter((record) => tenant === undefined || record.tenantId === tenant)
      .slice(0, limit);
  }

  /**
   * Ends every session of one user (operators), through the same termination path as everything
   * else. Resolves how many ended; what Avaturn did not confirm stays queued, and the call fails
   * with 503 so that the operator knows to look again.
   */
  async function endAllOf(userId: string): Promise<number> {
    const records = await store.listByUser(userId);
    const results = await Promise.allSettled(
      records.map((record) => terminations.end(record.sessionId, 'admin', { ownerId: userId })),
    );
    const failure = results.find((result) => result.status === 'rejected');
    if (failure !== undefined) {
      const cause: unknown = failure.reason;
      if (isAppError(cause) && cause.code === 'not-ready') throw cause;
      throw new AppError(
        'upstream-unavailable',
        'Some sessions could not be ended at once; they stay queued and end as soon as Avaturn answers.',
        { cause, retryAfterSeconds: 5 },
      );
    }
    return results.filter((result) => result.status === 'fulfilled' && result.value !== undefined).length;
  }

  return { create, end, list, listAll, endAllOf, assertProfile };
}

const sessionLimitDetail = {
  'user-cap': 'You already hold the most sessions allowed; end one first.',
  'tenant-cap': 'Your organisation holds the most sessions allowed; try again when one ends.',
  'global-cap': 'The service is at its session capacity; try again later.',
};

function sessionLimit(reason: keyof typeof sessionLimitDetail): AppError {
  return new AppError('session-limit', sessionLimitDetail[reason], {
    retryAfterSeconds: reason === 'user-cap' ? 5 : 30,
  });
}

const budgetOwner = { user: 'your', tenant: "your organisation's", service: "the service's" };

function budgetExhausted(refusal: Extract<ReserveResult, { reason: 'budget' }>, now: number): AppError {
  const window = refusal.window === 'day' ? 'daily' : 'monthly';
  return new AppError(
    'budget-exhausted',
    `Less than a minute of ${budgetOwner[refusal.scope]} ${window} session minutes is left; it resets at ${new Date(refusal.retryAt).toISOString()}.`,
    {
      retryAfterSeconds: Math.max(1, Math.ceil((refusal.retryAt - now) / 1000)),
      extensions: { scope: refusal.scope, window: refusal.window },
    },
  );
}
