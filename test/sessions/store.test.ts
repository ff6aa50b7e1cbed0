import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { createMemoryStore } from '../../src/store/memory/memory-store';
import { keyTag } from '../../src/store/redis/redis-keys';
import { createRedisStore } from '../../src/store/redis/redis-store';
import { retentionSlackMs, type SessionStore } from '../../src/store/ports';
import { contractOutboxMaxJobs } from './queue-contract';
import { describeStoreContract } from './store-contract';
import { redisDeployment, redisModes, useRedisDeployment } from '../helpers/redis-deployment';
import { startRedisServer } from '../helpers/redis-server';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisTarget = { host: new URL(redisUrl).hostname, port: Number(new URL(redisUrl).port || 6379) };
const admin = new Redis(redisUrl);
afterAll(() => admin.quit());

const uniquePrefix = () => `test-broker:${randomUUID()}:`;
const keysUnder = (prefix: string) => admin.keys(`${keyTag(prefix)}*`);
async function deleteKeysUnder(prefix: string): Promise<void> {
  const keys = await keysUnder(prefix);
  if (keys.length > 0) await admin.del(...keys);
}

describeStoreContract('memory', async (clock) => {
  const store = createMemoryStore({ clock, outboxMaxJobs: contractOutboxMaxJobs });
  return { store, peer: store, dispose: () => store.close() };
});

for (const mode of redisModes) {
  useRedisDeployment(mode);
  describeStoreContract(`Redis (${mode})`, async (clock) => {
    const deployment = await redisDeployment(mode);
    const keyPrefix = uniquePrefix();
    const options = {
      connection: deployment.connection,
      keyPrefix,
      clock,
      outboxMaxJobs: contractOutboxMaxJobs,
    };
    const store = createRedisStore(options);
    const peer = createRedisStore(options);
    return {
      store,
      peer,
      dispose: async () => {
        await Promise.all([store.close(), peer.close()]);
        await deployment.deleteKeys(keyPrefix);
      },
    };
  });
}

describe('Redis session store', () => {
  const opened: SessionStore[] = [];
  const prefixes: string[] = [];
  const proxies: TcpProxy[] = [];
  function openStore(options: { url?: string; keyPrefix?: string } = {}): SessionStore {
    const keyPrefix = options.keyPrefix ?? uniquePrefix();
    prefixes.push(keyPrefix);
    const store = createRedisStore({ url: options.url ?? redisUrl, keyPrefix });
    opened.push(store);
    return store;
  }
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
    for (const prefix of prefixes.splice(0)) await deleteKeysUnder(prefix);
  });

  async function settlesWithin(
    promise: Promise<unknown>,
  ): Promise<{ ms: number; outcome: 'resolved' | 'rejected' }> {
    const started = performance.now();
    const outcome = await promise.then(
      () => 'resolved' as const,
      () => 'rejected' as const,
    );
    return { ms: performance.now() - started, outcome };
  }

  describe('when Redis cannot be reached', () => {
    it('builds without throwing, and every call rejects within 1.5 s instead of hanging', async () => {
      const store = openStore({ url: 'redis://127.0.0.1:1' });
      const started = performance.now();
      const calls: Promise<unknown>[] = [
        store.ping(),
        store.reserve({
          reservationId: 'r1',
          userId: 'alice',
          perUserCap: 1,
          globalCap: 0,
          policy: 'reject',
          reservationTtlMs: 1_000,
          evictionGraceMs: 0,
        }),
        store.commit('r1', {
          sessionId: 's1',
          userId: 'alice',
          profile: 'p',
          engine: 'cartesia',
          createdAt: 0,
          expiresAt: 1,
        }),
        store.listByUser('alice'),
        store.get('s1'),
        store.requestEnd({ sessionId: 's1', reason: 'user', dueAt: 0 }),
        store.finishEnd('s1'),
        store.countAll(),
        store.claimJobs(1, 1_000),
        store.idempotencyBegin('alice', 'k1', 'fp', 1_000, 'a1'),
      ];
      const outcomes = await Promise.all(calls.map((call) => settlesWithin(call)));
      expect(outcomes.map((o) => o.outcome)).toEqual(calls.map(() => 'rejected'));
      expect(performance.now() - started).toBeLessThan(1_500);
    });

    it('fails fast during an outage and answers again by itself once Redis is back', async () => {
      const proxy = await startTcpProxy(redisTarget);
      proxies.push(proxy);
      const store = openStore({ url: proxy.url });
      await store.ping();

      await proxy.cut();
      const { ms, outcome } = await settlesWithin(store.ping());
      expect({ outcome, fast: ms < 1_500 }).toEqual({ outcome: 'rejected', fast: true });

      await proxy.restore();
      const deadline = Date.now() + 5_000;
      let back = false;
      while (!back && Date.now() < deadline) {
        back = (await settlesWithin(store.ping())).outcome === 'resolved';
        if (!back) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(back).toBe(true);
    });
  });

  describe('what a crashed replica leaves behind', () => {
    const reserveFor = (store: SessionStore, reservationId: string, userId: string, ttlMs: number) =>
      store.reserve({
        reservationId,
        userId,
        perUserCap: 2,
        globalCap: 2,
        policy: 'reject',
        reservationTtlMs: ttlMs,
        evictionGraceMs: 0,
      });

    it('lapses inside Redis itself: slots free up, and once swept no key under the prefix remains', async () => {
      const keyPrefix = uniquePrefix();
      const crashed = openStore({ keyPrefix });
      const survivor = openStore({ keyPrefix });
      const now = Date.now();
      await reserveFor(crashed, 'r1', 'alice', 300);
      const session = {
        sessionId: 's1',
        userId: 'alice',
        profile: 'default',
        engine: 'cartesia' as const,
        createdAt: now,
        expiresAt: now - retentionSlackMs + 400,
      };
      await crashed.commit('r1', session);
      await reserveFor(crashed, 'r2', 'alice', 300);
      await crashed.idempotencyBegin('alice', 'k1', 'fp', 300, 'a1');
      expect((await keysUnder(keyPrefix)).length).toBeGreaterThan(0);
      expect(await reserveFor(survivor, 'r3', 'bob', 50)).toEqual({ ok: false, reason: 'global-cap' });

      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(await survivor.countAll()).toBe(0);
      expect((await reserveFor(survivor, 'r4', 'bob', 50)).ok).toBe(true);
      await survivor.release('r4');
      expect(await survivor.sweepExpired(10)).toEqual([session]);
      expect(await keysUnder(keyPrefix)).toEqual([]);
    });

    it('a partition due in the other topic set is claimed as the topic of its head job, never as a termination', async () => {
      const keyPrefix = uniquePrefix();
      const store = openStore({ keyPrefix });
      const now = Date.now();
      await store.enqueue({
        id: 'e1',
        topic: 'event',
        partition: 'E1',
        payload: {},
        dueAt: now,
        dropAt: now + 60_000,
      });
      // As one due set for every topic had it.
      expect(await admin.zrem(`${keyTag(keyPrefix)}q:due:event`, 'E1')).toBe(1);
      await admin.zadd(`${keyTag(keyPrefix)}q:due`, now, 'E1');

      expect(await store.claimJobs(10, 30_000, 'terminate')).toEqual([]);
      expect((await store.claimJobs(10, 30_000, 'event')).map((job) => job.id)).toEqual(['e1']);
    });

    it('an event job lapses an hour after its dropAt, a termination job never does; a lapsed event leaves the queue and the count when jobs are claimed', async () => {
      const keyPrefix = uniquePrefix();
      const store = openStore({ keyPrefix });
      const now = Date.now();
      const common = { payload: {}, dueAt: now, dropAt: now + 24 * 3_600_000 };
      await store.enqueue({ ...common, id: 'e1', topic: 'event', partition: 'E1' });
      await store.enqueue({ ...common, id: 't1', topic: 'terminate', partition: 'T1' });
      const lapses = `${keyTag(keyPrefix)}q:event-lapse`;
      expect(Number(await admin.zscore(lapses, 'e1'))).toBe(common.dropAt + 3_600_000);
      expect(await admin.zscore(lapses, 't1')).toBeNull();

      // The hour has passed (nobody delivered it).
      await admin.zadd(lapses, now - 1, 'e1');
      expect(await store.claimJobs(10, 30_000, 'event')).toEqual([]);
      expect(await store.queueDepth()).toEqual({ terminate: 1, event: 0 });
    });
  });

  describe('rate-limit store', () => {
    it('counts hits in Redis under the key prefix, shared between two replicas', async () => {
      const keyPrefix = uniquePrefix();
      const [first, second] = [openStore({ keyPrefix }), openStore({ keyPrefix })].map((store) => {
        const limiter = store.rateLimitStore('ip:');
        if (!limiter) throw new Error('no rate-limit store');
        return limiter;
      });
      if (!first || !second) throw new Error('no rate-limit stores');
      await first.init?.({ windowMs: 60_000 } as never);
      await second.init?.({ windowMs: 60_000 } as never);

      expect((await first.increment('203.0.113.7')).totalHits).toBe(1);
      expect((await second.increment('203.0.113.7')).totalHits).toBe(2);
      expect(await keysUnder(keyPrefix)).toEqual([`${keyTag(keyPrefix)}rl:ip:203.0.113.7`]);
    });

    it('still works when it was initialised while Redis was away', async () => {
      const proxy = await startTcpProxy(redisTarget);
      proxies.push(proxy);
      await proxy.cut();
      const store = openStore({ url: proxy.url });
      const limiter = store.rateLimitStore('user:');
      await limiter?.init?.({ windowMs: 60_000 } as never);

      await proxy.restore();
      const deadline = Date.now() + 5_000;
      while ((await settlesWithin(store.ping())).outcome === 'rejected' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect((await limiter?.increment('alice'))?.totalHits).toBe(1);
    });

    it('loads its script again when Redis lost it (a restart, or a replica a failover promoted)', async () => {
      const redis = await startRedisServer();
      try {
        const store = openStore({ url: redis.url });
        const limiter = store.rateLimitStore('user:');
        await limiter?.init?.({ windowMs: 60_000 } as never);
        expect((await limiter?.increment('alice'))?.totalHits).toBe(1);
        await redis.admin.script('FLUSH');
        expect((await limiter?.increment('alice'))?.totalHits).toBe(2);
      } finally {
        await Promise.all(opened.splice(0).map((store) => store.close()));
        await redis.close();
      }
    });
  });
});
