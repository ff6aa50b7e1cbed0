import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { describeIdempotencyContract } from './idempotency-contract';
import { describeQueueContract } from './queue-contract';
import {
  ReservationLostError,
  retentionSlackMs,
  terminationJobId,
  type ReserveRequest,
  type SessionRecord,
  type SessionStore,
} from '../../src/store/ports';

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

    let reservations = 0;
    const request = (userId: string, overrides: Partial<ReserveRequest> = {}): ReserveRequest => ({
      reservationId: `r${++reservations}`,
      userId,
      perUserCap: 1,
      globalCap: 0,
      policy: 'reject',
      reservationTtlMs: 30_000,
      evictionGraceMs: 10_000,
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
      const req = request(session.userId, { perUserCap: 10, ...overrides });
      const result = await store.reserve(req);
      if (!result.ok) throw new Error(`reserve refused: ${result.reason}`);
      await store.commit(req.reservationId, session);
    }
    /** Reserves, failing loudly if the slot is refused; returns the reservation id. */
    async function reserved(userId: string, overrides: Partial<ReserveRequest> = {}): Promise<string> {
      const req = request(userId, overrides);
      const result = await store.reserve(req);
      if (!result.ok) throw new Error(`reserve refused: ${result.reason}`);
      return req.reservationId;
    }
    const ids = (records: SessionRecord[]) => records.map((r) => r.sessionId);

    describe('reserving a slot', () => {
      it('a user below the cap gets a reservation, and its commit is listed, fetched and counted', async () => {
        const req = request('alice');
        expect(await store.reserve(req)).toEqual({ ok: true, victims: [] });
        const session = record('alice', 's1');
        await store.commit(req.reservationId, session);

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
      const queuedTerminations = async () => (await store.queueDepth()).terminate;

      it('names the session created first (not the one committed first) as the victim, queues its termination, and keeps it listed', async () => {
        await open(record('alice', 'newer', time + 2_000));
        await open(record('alice', 'oldest', time));
        const result = await peer.reserve(request('alice', replace));

        expect(result).toEqual({ ok: true, victims: [record('alice', 'oldest')] });
        expect(await store.get('oldest')).toEqual(record('alice', 'oldest'));
        expect(ids(await store.listByUser('alice'))).toEqual(['newer', 'oldest']);
        expect(await queuedTerminations()).toBe(1);
      });

      it('unregisters a victim only when finishEnd says Avaturn confirmed it, and drops its job then', async () => {
        await open(record('alice', 'old'));
        await store.reserve(request('alice', { ...replace, perUserCap: 1 }));
        expect(await peer.finishEnd('old')).toEqual(record('alice', 'old'));
        expect(await store.get('old')).toBeUndefined();
        expect(await queuedTerminations()).toBe(0);
        expect(await store.finishEnd('old')).toBeUndefined();
      });

      it('names as many of the oldest as it takes when the cap is lower than what the user holds', async () => {
        for (const [i, id] of ['a', 'b', 'c', 'd'].entries())
          await open(record('alice', id, time + i * 1_000));
        const result = await store.reserve(request('alice', { ...replace, perUserCap: 2 }));

        expect(result.ok && ids(result.victims)).toEqual(['a', 'b', 'c']);
        expect(await queuedTerminations()).toBe(3);
      });

      it('prefers a session already being ended over an older one that is not', async () => {
        await open(record('alice', 'oldest', time));
        await open(record('alice', 'ending', time + 1_000));
        await store.requestEnd({ sessionId: 'ending', reason: 'user', dueAt: time });
        const result = await store.reserve(request('alice', replace));
        expect(result.ok && ids(result.victims)).toEqual(['ending']);
        expect(await queuedTerminations()).toBe(1);
      });

      it('cannot replace pending reservations: a user whose slots are all pending gets user-cap', async () => {
        await store.reserve(request('alice', replace));
        await store.reserve(request('alice', replace));
        expect(await store.reserve(request('alice', replace))).toEqual({ ok: false, reason: 'user-cap' });
      });

      it('a victim still counts until it is confirmed ended: a second reserve meanwhile gets user-cap', async () => {
        await open(record('alice', 'old'));
        expect((await store.reserve(request('alice', { ...replace, perUserCap: 1 }))).ok).toBe(true);
        expect(await peer.reserve(request('alice', { ...replace, perUserCap: 1 }))).toEqual({
          ok: false,
          reason: 'user-cap',
        });
      });

      it('never touches other users’ sessions', async () => {
        await open(record('bob', 'bobs', time - 5_000));
        await open(record('alice', 'alices'));
        const result = await store.reserve(request('alice', { ...replace, perUserCap: 1 }));
        expect(result.ok && ids(result.victims)).toEqual(['alices']);
        expect(await store.get('bobs')).toEqual(record('bob', 'bobs', time - 5_000));
      });

      it('hands a victim to exactly one of two racing replicas', async () => {
        await open(record('alice', 's1'));
        const results = await Promise.all([
          store.reserve(request('alice', { ...replace, perUserCap: 1 })),
          peer.reserve(request('alice', { ...replace, perUserCap: 1 })),
        ]);
        const victims = results.flatMap((r) => (r.ok ? ids(r.victims) : []));
        expect(victims).toEqual(['s1']);
        expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, reason: 'user-cap' }]);
      });

      it('leaves the victim’s job to the caller until the grace has passed', async () => {
        await open(record('alice', 'old'));
        await store.reserve(request('alice', { ...replace, perUserCap: 1, evictionGraceMs: 5_000 }));
        expect(await peer.claimJobs(10, 30_000)).toEqual([]);
        advance(5_000);
        expect(await peer.claimJobs(10, 30_000)).toEqual([
          {
            id: terminationJobId('old'),
            topic: 'terminate',
            partition: terminationJobId('old'),
            payload: {
              reason: 'replaced',
              record: record('alice', 'old', time - 5_000),
              requestedAt: time - 5_000,
            },
            dropAt: record('alice', 'old', time - 5_000).expiresAt,
            attempts: 0,
          },
        ]);
      });
    });

    describe('when a reply was lost and the caller asks again', () => {
      it('a repeated reserve gets the first answer and takes no second slot', async () => {
        await open(record('alice', 'old'));
        const req = request('alice', { perUserCap: 1, policy: 'replace-oldest' });
        const first = await store.reserve(req);
        expect(await peer.reserve(req)).toEqual(first);
        expect(await peer.reserve(request('bob', { globalCap: 3 }))).toEqual({ ok: true, victims: [] });
        expect(await peer.reserve(request('carol', { globalCap: 3 }))).toEqual({
          ok: false,
          reason: 'global-cap',
        });
      });

      it('a repeated commit is a no-op, and a commit of the same reservation to another session throws', async () => {
        const id = await reserved('alice');
        await store.commit(id, record('alice', 's1'));
        await peer.commit(id, record('alice', 's1'));
        await expect(peer.commit(id, record('alice', 's2'))).rejects.toThrow(ReservationLostError);
        expect(ids(await store.listByUser('alice'))).toEqual(['s1']);
        expect(await store.countAll()).toBe(1);
      });

      it('a repeated requestEnd queues one job, and a repeated finishEnd finds nothing more', async () => {
        await open(record('alice', 's1'));
        await store.requestEnd({ sessionId: 's1', reason: 'user', dueAt: time });
        await peer.requestEnd({ sessionId: 's1', reason: 'user', dueAt: time });
        expect(await store.queueDepth()).toEqual({ terminate: 1, event: 0 });
        expect(await store.finishEnd('s1')).toEqual(record('alice', 's1'));
        expect(await peer.finishEnd('s1')).toBeUndefined();
        expect(await store.queueDepth()).toEqual({ terminate: 0, event: 0 });
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

      it('counts a victim as a freed slot: a user at both caps replaces their own oldest session', async () => {
        await open(record('alice', 'a1'));
        await open(record('bob', 'b1'));
        const result = await store.reserve(request('alice', { globalCap: 2, policy: 'replace-oldest' }));
        expect(result.ok && ids(result.victims)).toEqual(['a1']);
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

      it('is refused before anything is queued when even replacing would not make room', async () => {
        await open(record('alice', 'a1'));
        await store.reserve(request('bob'));
        await store.reserve(request('carol'));
        const result = await store.reserve(request('alice', { globalCap: 2, policy: 'replace-oldest' }));
        expect(result).toEqual({ ok: false, reason: 'global-cap' });
        expect(await store.queueDepth()).toEqual({ terminate: 0, event: 0 });
      });

      it('0 means no global cap', async () => {
        for (let i = 0; i < 5; i++) await open(record(`user${i}`, `s${i}`));
        expect((await store.reserve(request('late', { globalCap: 0 }))).ok).toBe(true);
      });
    });

    describe('lapse', () => {
      it('an uncommitted reservation lapses after reservationTtlMs, and its commit then throws', async () => {
        const first = await reserved('alice', { reservationTtlMs: 5_000 });
        advance(4_999);
        expect(await peer.reserve(request('alice'))).toEqual({ ok: false, reason: 'user-cap' });
        advance(1);
        expect((await peer.reserve(request('alice'))).ok).toBe(true);
        await expect(store.commit(first, record('alice', 'late'))).rejects.toThrow(ReservationLostError);
        expect(await store.get('late')).toBeUndefined();
      });

      it('committing an unknown or released reservation throws', async () => {
        await expect(store.commit('no-such-reservation', record('alice', 's1'))).rejects.toThrow(
          ReservationLostError,
        );
        const id = await reserved('alice');
        await store.release(id);
        await expect(peer.commit(id, record('alice', 's1'))).rejects.toThrow(ReservationLostError);
        expect(await store.countAll()).toBe(0);
      });

      it('a session stays live until expiresAt + retentionSlackMs, then frees its slot and is swept once', async () => {
        const session = record('alice', 's1');
        await open(session);
        advance(session.expiresAt + retentionSlackMs - time - 1);
        expect(await peer.get('s1')).toEqual(session);
        expect(await peer.countAll()).toBe(1);
        advance(1);
        expect(await peer.get('s1')).toBeUndefined();
        expect(await peer.listByUser('alice')).toEqual([]);
        expect(await peer.listAll(10)).toEqual([]);
        expect(await peer.countAll()).toBe(0);
        expect(await peer.requestEnd({ sessionId: 's1', reason: 'user', dueAt: time })).toBeUndefined();
        expect((await peer.reserve(request('alice', { globalCap: 1 }))).ok).toBe(true);
        expect(await store.sweepExpired(10)).toEqual([session]);
        expect(await peer.sweepExpired(10)).toEqual([]);
      });
    });

    describe('release', () => {
      it('gives the slot back, and releasing again or releasing an unknown id is harmless', async () => {
        const id = await reserved('alice');
        await store.release(id);
        await peer.release(id);
        await store.release('never-reserved');
        expect((await peer.reserve(request('alice', { globalCap: 1 }))).ok).toBe(true);
      });
    });

    describe('requestEnd', () => {
      it("queues only the owner's or an unscoped caller's request; another user's changes nothing", async () => {
        await open(record('alice', 's1'));
        expect(
          await store.requestEnd({ sessionId: 's1', ownerId: 'mallory', reason: 'user', dueAt: time }),
        ).toBe(undefined);
        expect(await store.queueDepth()).toEqual({ terminate: 0, event: 0 });
        expect(
          await store.requestEnd({ sessionId: 's1', ownerId: 'alice', reason: 'user', dueAt: time }),
        ).toEqual(record('alice', 's1'));
        expect(await store.requestEnd({ sessionId: 's1', reason: 'admin', dueAt: time })).toEqual(
          record('alice', 's1'),
        );
        expect(await store.queueDepth()).toEqual({ terminate: 1, event: 0 });
        expect(ids(await store.listByUser('alice'))).toEqual(['s1']);
      });

      it('queues a session that was never registered when the caller knows it, unless scoped to an owner', async () => {
        const known = record('alice', 'orphan');
        expect(
          await store.requestEnd({
            sessionId: 'orphan',
            ownerId: 'alice',
            reason: 'compensated',
            dueAt: time,
            known,
          }),
        ).toBe(undefined);
        expect(await store.queueDepth()).toEqual({ terminate: 0, event: 0 });
        expect(
          await store.requestEnd({ sessionId: 'orphan', reason: 'compensated', dueAt: time, known }),
        ).toBe(undefined);
        const [job] = await peer.claimJobs(10, 30_000);
        expect(job).toMatchObject({ topic: 'terminate', payload: { reason: 'compensated', record: known } });
        expect(await peer.finishEnd('orphan')).toBeUndefined();
        expect(await store.queueDepth()).toEqual({ terminate: 0, event: 0 });
      });

      it('gives the record to every concurrent requester, and one job to the queue', async () => {
        await open(record('alice', 's1'));
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 ? peer : store).requestEnd({ sessionId: 's1', reason: 'user', dueAt: time }),
          ),
        );
        expect(results.filter((r) => r !== undefined)).toHaveLength(20);
        expect(await store.queueDepth()).toEqual({ terminate: 1, event: 0 });
      });
    });

    describe('listAll', () => {
      it('lists every user’s live sessions, newest first, up to the limit', async () => {
        await open(record('alice', 'a', time + 1_000));
        await open(record('bob', 'b', time + 3_000));
        await open(record('carol', 'c', time + 2_000));
        expect(ids(await peer.listAll(10))).toEqual(['b', 'c', 'a']);
        expect(ids(await peer.listAll(2))).toEqual(['b', 'c']);
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

    it('keeps the first epoch marker: every later candidate, from any replica, gets it back', async () => {
      expect(await store.epochMarker('first')).toBe('first');
      expect(await peer.epochMarker('second')).toBe('first');
      advance(24 * 60 * minute);
      expect(await store.epochMarker('third')).toBe('first');
    });

    describeIdempotencyContract(() => ({ store, peer, advance }));
    describeQueueContract(() => ({ store, peer, advance, now: () => time }));
  });
}
