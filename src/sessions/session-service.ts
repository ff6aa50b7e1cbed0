import type { Config, EngineType, Profile } from '../config/types';
import { AppError, isAppError } from '../errors';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { avaturnCreateRequest } from '../upstreams/avaturn-create-request';
import { UnusableSessionError } from '../upstreams/avaturn-gateway';
import type { AvaturnGateway, CredentialMinter } from '../upstreams/types';
import { storeUnavailable, type SessionRecord, type SessionStore } from './store';
import type { Terminator } from './terminator';

export interface CreatedSession {
  record: SessionRecord;
  token: string;
}

export interface CreateSessionInput {
  userId: string;
  profileName: string;
  /** Aborts work that is safe to abandon (minting) when the caller no longer wants the result. */
  signal?: AbortSignal;
}

export interface SessionServiceDeps {
  config: Config;
  store: SessionStore;
  minters: Partial<Record<EngineType, CredentialMinter>>;
  avaturn: AvaturnGateway;
  terminator: Terminator;
  metrics: Metrics;
  logger: Logger;
  clock: () => number;
}

export type SessionService = ReturnType<typeof createSessionService>;

export function createSessionService(deps: SessionServiceDeps) {
  const { config, store, terminator, logger, metrics, clock } = deps;

  function profileNamed(name: string): Profile {
    const profile = Object.hasOwn(config.profiles, name) ? config.profiles[name] : undefined;
    if (profile === undefined)
      throw new AppError('unknown-profile', 'No profile with that name is configured.');
    return profile;
  }

  async function reserve(userId: string) {
    const { limits, timeouts } = config;
    const result = await store
      .reserve({
        userId,
        perUserCap: limits.maxSessionsPerUser,
        globalCap: limits.maxSessionsTotal,
        policy: limits.sessionLimitPolicy,
        reservationTtlMs: timeouts.sessionCreateDeadlineMs + 30_000,
      })
      .catch((err: unknown) => {
        throw storeUnavailable(err);
      });
    if (!result.ok) {
      const detail =
        result.reason === 'user-cap'
          ? 'You already hold the most sessions allowed; end one first.'
          : 'The service is at its session capacity; try again later.';
      throw new AppError('session-limit', detail, {
        retryAfterSeconds: result.reason === 'user-cap' ? 5 : 30,
      });
    }
    await Promise.all(
      result.evicted.map((old) =>
        terminator
          .terminateNow(old.sessionId, 'replaced')
          .catch(() => terminator.compensate(old.sessionId, 'replaced')),
      ),
    );
    return result.reservationId;
  }

  async function create(input: CreateSessionInput): Promise<CreatedSession> {
    const profile = profileNamed(input.profileName);
    const minter = deps.minters[profile.engine.type];
    if (minter === undefined) throw new Error(`no minter for engine ${profile.engine.type}`);
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new AppError('upstream-timeout', 'The session could not be created in time.')),
      config.timeouts.sessionCreateDeadlineMs,
    );
    try {
      return await createWithin(profile, minter, input, deadline.signal);
    } catch (err) {
      metrics.createFailures.inc({ code: isAppError(err) ? err.code : 'internal' });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async function createWithin(
    profile: Profile,
    minter: CredentialMinter,
    input: CreateSessionInput,
    deadline: AbortSignal,
  ): Promise<CreatedSession> {
    const started = clock();
    const reservationId = await reserve(input.userId);
    let createdId: string | undefined;
    try {
      const mintSignal = input.signal ? AbortSignal.any([deadline, input.signal]) : deadline;
      const engine = await minter.mint(profile, { userId: input.userId, signal: mintSignal });
      mintSignal.throwIfAborted();
      // Only the deadline may abort a create: a caller who left must not lose us the session id.
      const session = await deps.avaturn
        .createSession(avaturnCreateRequest(profile, engine), { signal: deadline })
        .catch((err: unknown) => {
          if (err instanceof UnusableSessionError) createdId = err.sessionId;
          throw err;
        });
      createdId = session.sessionId;
      const createdAt = clock();
      const record: SessionRecord = {
        sessionId: session.sessionId,
        userId: input.userId,
        profile: profile.name,
        engine: profile.engine.type,
        createdAt,
        expiresAt: createdAt + profile.maxDurationSeconds * 1000,
      };
      await store.commit(reservationId, record).catch((err: unknown) => {
        throw storeUnavailable(err);
      });
      metrics.sessionsCreated.inc({ profile: profile.name, engine: profile.engine.type });
      metrics.createDuration.observe({ engine: profile.engine.type }, (clock() - started) / 1000);
      logger.info(
        { sessionId: record.sessionId, profile: profile.name, userId: input.userId },
        'session created',
      );
      return { record, token: session.token };
    } catch (err) {
      if (createdId !== undefined) void terminator.compensate(createdId, 'compensation');
      await store.release(reservationId).catch((releaseErr: unknown) => {
        logger.warn({ err: releaseErr }, 'could not release a reservation; it lapses by itself');
      });
      throw err;
    }
  }

  /** Ends a session that was created but will never reach its owner (they left, no Idempotency-Key). */
  async function abandon(record: SessionRecord): Promise<void> {
    const removed = await store.remove(record.sessionId).catch(() => record);
    if (removed !== undefined) await terminator.compensate(record.sessionId, 'compensation');
  }

  async function terminate(userId: string, sessionId: string): Promise<void> {
    const record = await store.get(sessionId).catch((err: unknown) => {
      throw storeUnavailable(err);
    });
    if (record === undefined || record.userId !== userId) {
      throw new AppError('not-found', 'No such session.');
    }
    await terminator.terminateNow(sessionId, 'user');
    await store.remove(sessionId, userId).catch((err: unknown) => {
      logger.warn(
        { err, sessionId },
        'terminated upstream but could not unregister; the record lapses by itself',
      );
    });
  }

  async function list(userId: string): Promise<SessionRecord[]> {
    const records = await store.listByUser(userId).catch((err: unknown) => {
      throw storeUnavailable(err);
    });
    // Past max_duration Avaturn has ended it, even if the record is still within its slack.
    const now = clock();
    return records.filter((record) => record.expiresAt > now);
  }

  return { create, abandon, terminate, list, profileNamed };
}
