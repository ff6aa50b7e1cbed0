import { describe, expect, it } from '@jest/globals';
import type { SessionStore } from '../../src/store/ports';

export interface IdempotencyWorld {
  store: SessionStore;
  peer: SessionStore;
  advance(ms: number): void;
}

/** The idempotency-key state machine, run inside the store contract with its two replicas and clock. */
export function describeIdempotencyContract(get: () => IdempotencyWorld): void {
  describe('idempotency keys', () => {
    let attempts = 0;
    const nextAttempt = () => `attempt-${++attempts}`;

    const response = { status: 201, headers: { location: '/session/s1' }, body: { session_id: 's1' } };

    it('a first begin starts; a repeat while running is in progress; another body is a mismatch', async () => {
      const { store, peer } = get();
      expect(await store.idempotencyBegin('alice', 'k1', 'fp', 10_000, nextAttempt())).toEqual({
        state: 'started',
      });
      expect(await peer.idempotencyBegin('alice', 'k1', 'fp', 10_000, nextAttempt())).toEqual({
        state: 'in-progress',
      });
      expect(await peer.idempotencyBegin('alice', 'k1', 'other', 10_000, nextAttempt())).toEqual({
        state: 'mismatch',
      });
    });

    it('once completed, the same body replays the response and another body is a mismatch', async () => {
      const { store, peer } = get();
      await store.idempotencyBegin('alice', 'k1', 'fp', 10_000, nextAttempt());
      await store.idempotencyComplete('alice', 'k1', response, 600_000);
      expect(await peer.idempotencyBegin('alice', 'k1', 'fp', 10_000, nextAttempt())).toEqual({
        state: 'completed',
        response,
      });
      expect(await peer.idempotencyBegin('alice', 'k1', 'other', 10_000, nextAttempt())).toEqual({
        state: 'mismatch',
      });
    });

    it('abandoning a started key lets the client retry it, but cannot erase a completed response', async () => {
      const { store, peer } = get();
      await store.idempotencyBegin('alice', 'k1', 'fp', 10_000, 'first');
      await store.idempotencyAbandon('alice', 'k1', 'first');
      expect(await peer.idempotencyBegin('alice', 'k1', 'fp', 10_000, 'second')).toEqual({
        state: 'started',
      });
      await peer.idempotencyComplete('alice', 'k1', response, 600_000);
      await store.idempotencyAbandon('alice', 'k1', 'second');
      expect(await store.idempotencyBegin('alice', 'k1', 'fp', 10_000, nextAttempt())).toEqual({
        state: 'completed',
        response,
      });
    });

    it('a begin repeated by the same attempt (its first reply was lost) still starts it; others wait', async () => {
      const { store, peer } = get();
      expect(await store.idempotencyBegin('alice', 'k1', 'fp', 10_000, 'mine')).toEqual({ state: 'started' });
      expect(await peer.idempotencyBegin('alice', 'k1', 'fp', 10_000, 'mine')).toEqual({ state: 'started' });
      expect(await peer.idempotencyBegin('alice', 'k1', 'fp', 10_000, 'theirs')).toEqual({
        state: 'in-progress',
      });
    });

    it('an abandon by another attempt leaves the key alone', async () => {
      const { store, peer } = get();
      await store.idempotencyBegin('alice', 'k1', 'fp', 10_000, 'mine');
      await peer.idempotencyAbandon('alice', 'k1', 'late-and-not-mine');
      expect(await peer.idempotencyBegin('alice', 'k1', 'fp', 10_000, 'other')).toEqual({
        state: 'in-progress',
      });
    });

    it('a pending key lapses after pendingTtlMs and a completed one after its ttlMs', async () => {
      const { store, peer, advance } = get();
      await store.idempotencyBegin('alice', 'k1', 'fp', 10_000, nextAttempt());
      advance(10_000);
      expect(await peer.idempotencyBegin('alice', 'k1', 'other', 10_000, nextAttempt())).toEqual({
        state: 'started',
      });
      await peer.idempotencyComplete('alice', 'k1', response, 600_000);
      advance(599_999);
      expect(await store.idempotencyBegin('alice', 'k1', 'other', 10_000, nextAttempt())).toEqual({
        state: 'completed',
        response,
      });
      advance(1);
      expect(await store.idempotencyBegin('alice', 'k1', 'fp', 10_000, nextAttempt())).toEqual({
        state: 'started',
      });
    });

    it('completing a key whose pending entry lapsed stores nothing', async () => {
      const { store, advance } = get();
      await store.idempotencyBegin('alice', 'k1', 'fp', 10_000, nextAttempt());
      advance(10_000);
      await store.idempotencyComplete('alice', 'k1', response, 600_000);
      expect(await store.idempotencyBegin('alice', 'k1', 'fp', 10_000, nextAttempt())).toEqual({
        state: 'started',
      });
    });

    it('keys are scoped per user, even when user ids and keys contain colons', async () => {
      const { store, peer } = get();
      await store.idempotencyBegin('alice', 'k1', 'fp', 10_000, nextAttempt());
      await store.idempotencyComplete('alice', 'k1', response, 600_000);
      expect(await peer.idempotencyBegin('bob', 'k1', 'fp', 10_000, nextAttempt())).toEqual({
        state: 'started',
      });

      expect(await store.idempotencyBegin('a:b', 'c', 'fp', 10_000, nextAttempt())).toEqual({
        state: 'started',
      });
      expect(await peer.idempotencyBegin('a', 'b:c', 'fp', 10_000, nextAttempt())).toEqual({
        state: 'started',
      });
    });

    it('of twenty concurrent begins with one key, exactly one starts', async () => {
      const { store, peer } = get();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? peer : store).idempotencyBegin('alice', 'k1', 'fp', 10_000, nextAttempt()),
        ),
      );
      expect(results.filter((r) => r.state === 'started')).toHaveLength(1);
      expect(results.filter((r) => r.state === 'in-progress')).toHaveLength(19);
    });
  });
}
