import { describe, expect, it } from '@jest/globals';
import type { NewJob, SessionStore } from '../../src/store/ports';

export interface QueueWorld {
  store: SessionStore;
  peer: SessionStore;
  now(): number;
  advance(ms: number): void;
}

/** The event cap (`outboxMaxJobs`) the stores under this contract are built with. */
export const contractOutboxMaxJobs = 50;

/** The durable queue's contract, run inside the store contract with its two replicas and clock. */
export function describeQueueContract(get: () => QueueWorld): void {
  describe('the job queue', () => {
    const job = (id: string, partition: string, overrides: Partial<NewJob> = {}): NewJob => ({
      id,
      topic: 'event',
      partition,
      payload: { id, nested: { n: 1 } },
      dropAt: get().now() + 60_000,
      dueAt: get().now(),
      ...overrides,
    });
    const claimedIds = async (store: SessionStore, limit = 10) =>
      (await store.claimJobs(limit, 30_000)).map((j) => j.id);

    it('hands out each partition’s jobs one at a time, in the order they were queued', async () => {
      const { store, peer } = get();
      await store.enqueue(job('a1', 'A'));
      await store.enqueue(job('a2', 'A'));
      await peer.enqueue(job('b1', 'B'));

      const first = await peer.claimJobs(10, 30_000);
      expect(first.map((j) => j.id).sort()).toEqual(['a1', 'b1']);
      expect(first.find((j) => j.id === 'a1')).toEqual({
        id: 'a1',
        topic: 'event',
        partition: 'A',
        payload: { id: 'a1', nested: { n: 1 } },
        dropAt: get().now() + 60_000,
        attempts: 0,
      });
      expect(await claimedIds(store)).toEqual([]);

      await store.ackJob('a1');
      expect(await claimedIds(peer)).toEqual(['a2']);
    });

    it('queues a job id once, and counts jobs per topic until they are acknowledged', async () => {
      const { store, peer } = get();
      await store.enqueue(job('e1', 'A'));
      await peer.enqueue(job('e1', 'A', { payload: 'second' }));
      await store.enqueue(job('t1', 'T', { topic: 'terminate' }));
      expect(await peer.queueDepth()).toEqual({ terminate: 1, event: 1 });
      const [claimed] = (await store.claimJobs(10, 30_000)).filter((j) => j.id === 'e1');
      expect(claimed?.payload).toEqual({ id: 'e1', nested: { n: 1 } });
      await store.ackJob('e1');
      await peer.ackJob('e1');
      expect(await peer.queueDepth()).toEqual({ terminate: 1, event: 0 });
    });

    it('holds a job back until it is due', async () => {
      const { store, advance, now } = get();
      await store.enqueue(job('later', 'A', { dueAt: now() + 5_000 }));
      expect(await claimedIds(store)).toEqual([]);
      advance(5_000);
      expect(await claimedIds(store)).toEqual(['later']);
    });

    it('hands a claimed job out again once its lease has passed without an answer', async () => {
      const { store, peer, advance } = get();
      await store.enqueue(job('j1', 'A'));
      expect((await store.claimJobs(10, 1_000)).map((j) => j.id)).toEqual(['j1']);
      advance(999);
      expect(await claimedIds(peer)).toEqual([]);
      advance(1);
      expect(await claimedIds(peer)).toEqual(['j1']);
    });

    it('retries a failed job at the time asked, counting the attempt, and keeps its partition waiting', async () => {
      const { store, peer, advance, now } = get();
      await store.enqueue(job('j1', 'A'));
      await store.enqueue(job('j2', 'A'));
      await store.claimJobs(10, 30_000);
      await store.retryJob('j1', now() + 2_000);
      advance(1_999);
      expect(await claimedIds(peer)).toEqual([]);
      advance(1);
      const [again] = await peer.claimJobs(10, 30_000);
      expect(again).toMatchObject({ id: 'j1', attempts: 1 });
    });

    it('claims at most the limit, and of twenty concurrent claims each job goes to one', async () => {
      const { store, peer } = get();
      for (let i = 0; i < 30; i++) await store.enqueue(job(`j${i}`, `P${i}`));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => claimedIds(i % 2 ? peer : store, 2)),
      );
      const all = results.flat();
      expect(results.every((ids) => ids.length <= 2)).toBe(true);
      expect(new Set(all).size).toBe(all.length);
      expect(all).toHaveLength(30);
    });

    it('keeps at most the cap of events, dropping the oldest and counting each drop once across replicas; terminations are never dropped', async () => {
      const { store, peer } = get();
      for (let i = 0; i < 10; i++) await store.enqueue(job(`t${i}`, `T${i}`, { topic: 'terminate' }));
      for (let i = 0; i < contractOutboxMaxJobs + 5; i++) {
        await (i % 2 === 0 ? store : peer).enqueue(job(`e${i}`, `E${i}`, { dueAt: get().now() + i }));
      }
      expect(await peer.queueDepth()).toEqual({ terminate: 10, event: contractOutboxMaxJobs });
      expect([await store.outboxDropped(), await peer.outboxDropped()]).toEqual([5, 5]);

      get().advance(1_000);
      const claimed = await store.claimJobs(100, 30_000);
      const ids = claimed.map((j) => j.id);
      expect(ids.filter((id) => id.startsWith('t')).sort()).toEqual(
        Array.from({ length: 10 }, (_, i) => `t${i}`).sort(),
      );
      expect(ids.filter((id) => id.startsWith('e')).sort()).toEqual(
        Array.from({ length: contractOutboxMaxJobs }, (_, i) => `e${i + 5}`).sort(),
      );
    });

    it('claims due terminations ahead of events that have waited longer, and one topic alone when asked', async () => {
      const { store, peer } = get();
      for (let i = 0; i < 30; i++)
        await store.enqueue(job(`e${i}`, `E${i}`, { dueAt: get().now() - 60_000 }));
      await peer.enqueue(job('t1', 'T1', { topic: 'terminate' }));
      expect(await claimedIds(peer, 1)).toEqual(['t1']);
      expect(await store.claimJobs(10, 30_000, 'terminate')).toEqual([]);
      const events = await store.claimJobs(10, 30_000, 'event');
      expect(events.map((j) => j.topic)).toEqual(Array.from({ length: 10 }, () => 'event'));
    });

    it('acknowledging or retrying an unknown job is harmless', async () => {
      const { store } = get();
      await store.ackJob('nope');
      await store.retryJob('nope', 0);
      expect(await store.queueDepth()).toEqual({ terminate: 0, event: 0 });
    });
  });
}
