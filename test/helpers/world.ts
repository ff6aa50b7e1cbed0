import { randomUUID } from 'node:crypto';
import { expect } from '@jest/globals';
import { Redis } from 'ioredis';
import { keyTag } from '../../src/store/redis/redis-keys';
import { createRedisStore } from '../../src/store/redis/redis-store';
import { buildTestApp, type TestApp, type TestAppOptions } from './build-test-app';
import { redisDeployment, redisModes, redisUrl } from './redis-deployment';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';
import { eventually } from './waiting';

export { eventually, sleep } from './waiting';
export { redisUrl } from './redis-deployment';

/** The in-process store and the shared standalone Redis behind a relay the test can cut. */
export const storeKinds = ['memory', 'redis'] as const;
/** Every store: also Redis as a Cluster, under Sentinel and over TLS with an ACL user (no relay). */
export const everyStoreKind = ['memory', ...redisModes] as const;
export type StoreKind = (typeof everyStoreKind)[number];

export interface World {
  t: TestApp;
  /** Redis worlds: the key prefix, for a second broker on the same keyspace (a restart). */
  keyPrefix?: string;
  /** The relay between the broker and Redis (the standalone `redis` world only). */
  proxy?: TcpProxy;
  dispose(): Promise<void>;
}

/**
 * A broker on the simulator with the store of the given kind: for Redis, a fresh key prefix on the
 * real server or deployment; the standalone `redis` is reached through a relay the test can cut or
 * slow down, the other modes directly.
 */
export async function buildWorld(
  kind: StoreKind,
  options: TestAppOptions = {},
  shared: { keyPrefix?: string } = {},
): Promise<World> {
  if (kind === 'memory') {
    const t = await buildTestApp(options);
    return { t, dispose: () => t.close() };
  }
  if (kind !== 'redis') {
    const deployment = await redisDeployment(kind);
    const keyPrefix = shared.keyPrefix ?? `test-world:${randomUUID()}:`;
    const t = await buildTestApp({
      ...options,
      env: { ...deployment.env, ...options.env },
      deps: {
        store: createRedisStore({ connection: deployment.connection, keyPrefix, clock: options.deps?.clock }),
        ...options.deps,
      },
    });
    return {
      t,
      keyPrefix,
      async dispose() {
        await t.close();
        await deployment.deleteKeys(keyPrefix);
      },
    };
  }
  const target = new URL(redisUrl);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
  const keyPrefix = shared.keyPrefix ?? `test-world:${randomUUID()}:`;
  const t = await buildTestApp({
    ...options,
    env: { REDIS_URL: proxy.url, ...options.env },
    deps: {
      store: createRedisStore({ url: proxy.url, keyPrefix, clock: options.deps?.clock }),
      ...options.deps,
    },
  });
  return {
    t,
    proxy,
    keyPrefix,
    async dispose() {
      await t.close();
      await proxy.close();
      const admin = new Redis(redisUrl);
      const keys = await admin.keys(`${keyTag(keyPrefix)}*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    },
  };
}

/**
 * What must hold after any fault once it has cleared: the simulator's ledger and the registry agree.
 * Every session live upstream is registered, every registered one is live upstream, nobody holds
 * more than `cap` upstream, and the termination queue is empty.
 */
export async function expectAccountedFor(t: TestApp, cap: number): Promise<void> {
  await t.broker.terminations.settle();
  await eventually(async () => {
    await t.broker.worker.drain();
    const live = t.sim
      .liveSessions()
      .map((s) => s.sessionId)
      .sort();
    const registered = await t.broker.store.listAll(100_000);
    expect(registered.map((r) => r.sessionId).sort()).toEqual(live);
    const perUser = new Map<string, number>();
    for (const record of registered) perUser.set(record.userId, (perUser.get(record.userId) ?? 0) + 1);
    expect(Math.max(0, ...perUser.values())).toBeLessThanOrEqual(cap);
    expect(await t.broker.store.queueDepth()).toEqual({ terminate: 0, event: 0 });
  }, 8_000);
}
