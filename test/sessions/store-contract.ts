import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { describeIdempotencyContract } from './idempotency-contract';
import {
  retentionSlackMs,
  type ReserveRequest,
  type SessionRecord,
  type SessionStore,
} from '../../src/sessions/store';

/** Two handles on one empty backend, as two replicas would hold them, both read through `clock`. */
export interface StoreWorld {
  store: SessionStore;
  peer: SessionStore;
  dispose(): Promise<void>;
}

export type MakeStoreWorld = (clock: () => number) => Promise<StoreWorld>;

const minute = 60_000;

export function describeStoreContract(name: string, makeWorld: MakeStoreWorld): void {
  describe(`${name} session store`, () => {
    let time: number;
    let world: StoreWorld;
    let store: SessionStore;
    let peer: SessionStore;
    const advance = (ms: number) => {
      time += ms;
    };

    beforeEach(async () => {
      time = 1_800_000_000_000;
      world = await makeWorld(() => time);
      ({ store, peer } = world);
    });
    afterEach(() => world.dispose());

    const request = (userId: string, overrides: Partial<ReserveRequest> = {}): ReserveRequest => ({
      userId,
      perUserCap: 1,
      globalCap: 0,
      policy: 'reject',
      reservationTtlMs: 30_000,
      ...overrides,
    });
    const record = (userId: string, sessionId: string, createdAt = time): SessionRecord => ({
      sessionId,
      userId,
      profile: 'default',
      engine: 'openai-realtime',
      createdAt,
      expiresAt: createdAt + 15 * minute,
    });
    /** Reserves and commits, failing loudly if the slot is refused. */
    async function open(session: SessionRecord, overrides: Partial<ReserveRequest> = {}): Promise<void> {
      const result = await store.reserve(request(session.userId, { perUserCap: 10, ...overrides }));
      if (!result.ok) throw new Error(`reserve refused: ${result.reason}`);
      await store.commit(result.reservationId, session);
    }
    const ids = (records: SessionRecord[]) => records.map((r) => r.sessionId);

    describe('reserving a slot', () => {
      it('a user below the cap gets a reservation, and its commit is listed, fetched and counted', async () => {
        const result = await store.reserve(request('alice'));
        expect(result).toEqual({ ok: true, reservationId: expect.any(String), evicted: [] });
        if (!result.ok) return;
        const session = record('alice', 's1');
        await store.commit(result.reservationId, session);

        expect(await peer.get('s1')).toEqual(session);
        expect(await peer.listByUser('alice')).toEqual([session]);
        expect(await peer.countAll()).toBe(1);
      });

      it('pending reservations hold slots: a third reserve with cap 2 is refused though nothing is committed', async () => {
        expect((await store.reserve(request('alice', { perUserCap: 2 }))).ok).toBe(true);
        expect((await peer.reserve(request('alice', { perUserCap: 2 }))).ok).toBe(true);
        expect(await store.reserve(request('alice', { perUserCap: 2 }))).toEqual({
          ok: false,
          reason: 'user-cap',
        });
        expect(await store.countAll()).toBe(0);
      });
    });

    describe('when a user is at the cap with policy reject', () => {
      it('answers user-cap and leaves the sessions alone, while another user still gets a slot', async () => {
        await open(record('alice', 's1'));
        expect(await store.reserve(request('alice'))).toEqual({ ok: false, reason: 'user-cap' });
        expect(ids(await store.listByUser('alice'))).toEqual(['s1']);
        expect((await store.reserve(request('bob'))).ok).toBe(true);
      });
    });

    describe('when a user is at the cap with policy replace-oldest', () => {
      const replace = { perUserCap: 2, policy: 'replace-oldest' } as const;

      it('evicts the session created first (not the one committed first), hands it back and forgets it', async () => {
        await open(record('alice', 'newer', time + 2_000));
        await open(record('alice', 'oldest', time));
        const result = await peer.reserve(request('alice', replace));

        expect(result).toEqual({
          ok: true,
          reservationId: expect.any(String),
          evicted: [record('alice', 'oldest')],
        });
        expect(await store.get('oldest')).toBeUndefined();
        expect(await store.remove('oldest')).toBeUndefined();
        expect(ids(await store.listByUser('alice'))).toEqual(['newer']);
      });

      it('evicts as many of the oldest as it takes when the cap is lower than what the user holds', async () => {
        for (const [i, id] of ['a', 'b', 'c', 'd'].entries())
          await open(record('alice', id, time + i * 1_000));
        const result = await store.reserve(request('alice', { ...replace, perUserCap: 2 }));

        expect(result.ok && ids(result.evicted)).toEqual(['a', 'b', 'c']);
        expect(ids(await store.listByUser('alice'))).toEqual(['d']);
      });

      it('cannot evict pending reservations: a user whose slots are all pending gets user-cap', async () => {
        await store.reserve(request('alice', replace));
        await store.reserve(request('alice', replace));
        expect(await store.reserve(request('alice', replace))).toEqual({ ok: false, reason: 'user-cap' });
      });

      it('never touches other users’ sessions', async () => {
        await open(record('bob', 'bobs', time - 5_000));
        await open(record('alice', 'alices'));
        const result = await store.reserve(request('alice', { ...replace, perUserCap: 1 }));
        expect(result.ok && ids(result.evicted)).toEqual(['alices']);
        expect(await store.get('bobs')).toEqual(record('bob', 'bobs', time - 5_000));
      });

      it('hands an evicted session to exactly one of two racing replicas', async () => {
        await open(record('alice', 's1'));
        const results = await Promise.all([
          store.reserve(request('alice', { ...replace, perUserCap: 1 })),
          peer.reserve(request('alice', { ...replace, perUserCap: 1 })),
        ]);
        const evicted = results.flatMap((r) => (r.ok ? ids(r.evicted) : []));
        expect(evicted).toEqual(['s1']);
        expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, reason: 'user-cap' }]);
      });
    });

    describe('the global cap', () => {
      it('refuses every user once live sessions plus reservations reach it', async () => {
        await open(record('alice', 's1'));
        await store.reserve(request('bob'));
        expect(await peer.reserve(request('carol', { globalCap: 2 }))).toEqual({
          ok: false,
          reason: 'global-cap',
        });
        expect((await peer.reserve(request('carol', { globalCap: 3 }))).ok).toBe(true);
      });

      it('counts an eviction as a freed slot: a user at both caps replaces their own oldest session', async () => {
        await open(record('alice', 'a1'));
        await open(record('bob', 'b1'));
        const result = await store.reserve(request('alice', { globalCap: 2, policy: 'replace-oldest' }));

        expect(result.ok && ids(result.evicted)).toEqual(['a1']);
        expect(await store.countAll()).toBe(1);
      });

      it('does not evict to make room under it: a user below their own cap gets global-cap', async () => {
        await open(record('alice', 'a1'));
        await open(record('bob', 'b1'));
        const result = await store.reserve(
          request('alice', { perUserCap: 2, globalCap: 2, policy: 'replace-oldest' }),
        );
        expect(result).toEqual({ ok: false, reason: 'global-cap' });
        expect(await store.countAll()).toBe(2);
      });

      it('is refused before any eviction happens when even evicting would not make room', async () => {
        await open(record('alice', 'a1'));
        await store.reserve(request('bob'));
        await store.reserve(request('carol'));
        const result = await store.reserve(request('alice', { globalCap: 2, policy: 'replace-oldest' }));
        expect(result).toEqual({ ok: false, reason: 'global-cap' });
        expect(await store.get('a1')).toEqual(record('alice', 'a1'));
      });

      it('0 means no global cap', async () => {
        for (let i = 0; i < 5; i++) await open(record(`user${i}`, `s${i}`));
        expect((await store.reserve(request('late', { globalCap: 0 }))).ok).toBe(true);
      });
    });

    describe('lapse', () => {
      it('an uncommitted reservation lapses after reservationTtlMs, and its commit then throws', async () => {
        const first = await store.reserve(request('alice', { reservationTtlMs: 5_000 }));
        advance(4_999);
        expect(await peer.reserve(request('alice'))).toEqual({ ok: false, reason: 'user-cap' });
        advance(1);
        expect((await peer.reserve(request('alice'))).ok).toBe(true);
        if (!first.ok) throw new Error('first reserve refused');
        await expect(store.commit(first.reservationId, record('alice', 'late'))).rejects.toThrow();
        expect(await store.get('late')).toBeUndefined();
      });

      it('committing an unknown or released reservation throws', async () => {
        await expect(store.commit('no-such-reservation', record('alice', 's1'))).rejects.toThrow();
        const result = await store.reserve(request('alice'));
        if (!result.ok) throw new Error('reserve refused');
        await store.release(result.reservationId);
        await expect(peer.commit(result.reservationId, record('alice', 's1'))).rejects.toThrow();
        expect(await store.countAll()).toBe(0);
      });

      it('a session stays live until expiresAt + retentionSlackMs, then is gone everywhere and frees its slot', async () => {
        const session = record('alice', 's1');
        await open(session);
        advance(session.expiresAt + retentionSlackMs - time - 1);
        expect(await peer.get('s1')).toEqual(session);
        expect(await peer.countAll()).toBe(1);
        advance(1);
        expect(await peer.get('s1')).toBeUndefined();
        expect(await peer.listByUser('alice')).toEqual([]);
        expect(await peer.countAll()).toBe(0);
        expect(await peer.remove('s1')).toBeUndefined();
        expect((await peer.reserve(request('alice', { globalCap: 1 }))).ok).toBe(true);
      });
    });

    describe('release', () => {
      it('gives the slot back, and releasing again or releasing an unknown id is harmless', async () => {
        const result = await store.reserve(request('alice'));
        if (!result.ok) throw new Error('reserve refused');
        await store.release(result.reservationId);
        await peer.release(result.reservationId);
        await store.release('never-reserved');
        expect((await peer.reserve(request('alice', { globalCap: 1 }))).ok).toBe(true);
      });
    });

    describe('remove', () => {
      it("only the owner or an unscoped caller removes a session; another user's attempt changes nothing", async () => {
        await open(record('alice', 's1'));
        await open(record('alice', 's2'));
        expect(await store.remove('s1', 'mallory')).toBeUndefined();
        expect(await store.get('s1')).toEqual(record('alice', 's1'));

        expect(await store.remove('s1', 'alice')).toEqual(record('alice', 's1'));
        expect(await peer.remove('s2')).toEqual(record('alice', 's2'));
        expect(await store.listByUser('alice')).toEqual([]);
        expect((await store.reserve(request('alice', { globalCap: 1 }))).ok).toBe(true);
      });

      it('gives the record to exactly one of twenty concurrent removers', async () => {
        await open(record('alice', 's1'));
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 ? peer : store).remove('s1', i % 3 ? 'alice' : undefined),
          ),
        );
        expect(results.filter((r) => r !== undefined)).toEqual([record('alice', 's1')]);
      });
    });

    describe('listByUser', () => {
      it("lists only the user's own live sessions, newest first", async () => {
        await open(record('alice', 'middle', time + 1_000));
        await open(record('alice', 'newest', time + 2_000));
        await open(record('alice', 'oldest', time));
        await open(record('bob', 'bobs', time + 3_000));
        expect(ids(await peer.listByUser('alice'))).toEqual(['newest', 'middle', 'oldest']);
        expect(await peer.listByUser('nobody')).toEqual([]);
      });

      it('shows a session id committed again for another user to that user alone', async () => {
        await open(record('alice', 'reused'));
        await open(record('bob', 'reused'));
        expect(await peer.listByUser('alice')).toEqual([]);
        expect(ids(await peer.listByUser('bob'))).toEqual(['reused']);
        expect(await peer.countAll()).toBe(1);
        expect((await peer.reserve(request('alice'))).ok).toBe(true);
      });
    });

    describe('under concurrency', () => {
      it.each(['reject', 'replace-oldest'] as const)(
        'twenty parallel reserves for one user with cap 3 from two replicas yield exactly 3 slots (%s)',
        async (policy) => {
          const results = await Promise.all(
            Array.from({ length: 20 }, (_, i) =>
              (i % 2 ? peer : store).reserve(request('alice', { perUserCap: 3, policy })),
            ),
          );
          expect(results.filter((r) => r.ok)).toHaveLength(3);
          expect(results.filter((r) => !r.ok && r.reason === 'user-cap')).toHaveLength(17);
        },
      );

      it('twenty users racing for a global cap of 5 get exactly 5 slots', async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 ? peer : store).reserve(request(`user${i}`, { globalCap: 5 })),
          ),
        );
        expect(results.filter((r) => r.ok)).toHaveLength(5);
      });
    });

    describeIdempotencyContract(() => ({ store, peer, advance }));
  });
}
