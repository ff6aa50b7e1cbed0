import type { SessionStore } from '../src/store/ports';

export interface AddLiveSessions {
  /** Sessions to add; each gets its own user, as with the default MAX_SESSIONS_PER_USER=1. */
  count: number;
  /** Numbers the sessions (and users) from here, so that repeated calls add new ones. */
  from: number;
  /** Store calls in flight at once (Redis round trips overlap; the memory store runs each to completion). */
  concurrency: number;
  /** Stop early, returning how many were added, once this epoch-ms time has passed. */
  deadline: number;
}

/**
 * The one place that knows how to make a store hold live sessions: through its public interface,
 * today reserve() then commit(), as a create does. Sessions last an hour, far beyond a bench run.
 */
export async function addLiveSessions(store: SessionStore, options: AddLiveSessions): Promise<number> {
  let next = 0;
  async function worker(): Promise<void> {
    while (next < options.count && Date.now() < options.deadline) {
      const i = options.from + next++;
      const userId = `live-user-${i}`;
      const reservationId = `live-reservation-${i}`;
      const reserved = await store.reserve({
        reservationId,
        userId,
        perUserCap: 1,
        globalCap: 0,
        policy: 'reject',
        reservationTtlMs: 60_000,
        evictionGraceMs: 0,
      });
      if (!reserved.ok) throw new Error(`could not reserve a slot for ${userId}: ${reserved.reason}`);
      const createdAt = Date.now();
      await store.commit(reservationId, {
        sessionId: `live-session-${i}`,
        userId,
        profile: 'default',
        engine: 'openai-realtime',
        createdAt,
        expiresAt: createdAt + 3_600_000,
      });
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return Math.min(next, options.count);
}
