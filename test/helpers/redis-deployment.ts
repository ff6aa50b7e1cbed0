import { afterAll, beforeAll } from '@jest/globals';
import { Redis } from 'ioredis';
import type { RedisConnection } from '../../src/config/types';
import { startRedisCluster, type RedisCluster } from './redis-cluster';
import { startRedisSentinel, type RedisSentinel } from './redis-sentinel';
import { startTlsRedis, type TlsRedis } from './redis-tls';

/** The shared standalone server of `npm test` (never a Redis that holds data). */
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Every way the broker can reach Redis: the shared standalone server, and deployments the tests
 * start themselves (a Cluster, a primary with a replica under Sentinel, TLS with ACL users).
 */
export const redisModes = ['redis', 'redis-cluster', 'redis-sentinel', 'redis-tls'] as const;
export type RedisMode = (typeof redisModes)[number];

export interface RedisDeployment {
  mode: RedisMode;
  /** What `createRedisStore` is given. */
  connection: RedisConnection;
  /** What `loadConfig` is given for the same connection. */
  env: Record<string, string>;
  /** Every key that holds `prefix` (hash tag braces or not), wherever it lives. */
  keys(prefix: string): Promise<string[]>;
  deleteKeys(prefix: string): Promise<void>;
  /** The deployment's own parts, for tests that kill or inspect them. */
  cluster?: RedisCluster;
  sentinel?: RedisSentinel;
  tls?: TlsRedis;
}

const started = new Map<RedisMode, Promise<{ deployment: RedisDeployment; close(): Promise<void> }>>();

/**
 * The deployment of `mode`, started on first use and shared by the rest of the test file; stopped
 * after the file's last test (each test file runs in a module registry of its own).
 */
export async function redisDeployment(mode: RedisMode): Promise<RedisDeployment> {
  let entry = started.get(mode);
  if (entry === undefined) {
    entry = start(mode);
    started.set(mode, entry);
  }
  return (await entry).deployment;
}

/**
 * Starts the deployment of `kind` before the tests of the enclosing `describe`, with a budget of its
 * own (a Cluster takes seconds to form on a busy machine), rather than inside the first test's.
 */
export function useRedisDeployment(kind: string): void {
  const mode = redisModes.find((m) => m === kind);
  if (mode !== undefined) beforeAll(() => redisDeployment(mode), 60_000);
}

afterAll(async () => {
  const entries = [...started.values()];
  started.clear();
  await Promise.all(entries.map(async (entry) => (await entry.catch(() => undefined))?.close()));
}, 30_000);

async function start(mode: RedisMode) {
  switch (mode) {
    case 'redis': {
      const admin = new Redis(redisUrl);
      return {
        deployment: onOneServer(
          mode,
          { mode: 'standalone', url: redisUrl },
          { REDIS_URL: redisUrl },
          async () => admin,
        ),
        close: async () => void admin.disconnect(),
      };
    }
    case 'redis-tls': {
      const tls = await startTlsRedis();
      return {
        deployment: { ...onOneServer(mode, tls.connection, tls.env, async () => tls.server.admin), tls },
        close: () => tls.close(),
      };
    }
    case 'redis-sentinel': {
      const sentinel = await startRedisSentinel();
      const deployment = onOneServer(
        mode,
        sentinel.connection,
        sentinel.env,
        async () => (await sentinel.master()).admin,
      );
      return { deployment: { ...deployment, sentinel }, close: () => sentinel.close() };
    }
    case 'redis-cluster': {
      const cluster = await startRedisCluster();
      const keys = async (prefix: string) => {
        const perMaster = await Promise.all(
          cluster.admin.nodes('master').map((node) => node.keys(`*${prefix}*`)),
        );
        return perMaster.flat();
      };
      const deployment: RedisDeployment = {
        mode,
        connection: cluster.connection,
        env: cluster.env,
        keys,
        async deleteKeys(prefix) {
          // One key at a time: keys of different slots cannot go in one DEL.
          for (const key of await keys(prefix)) await cluster.admin.del(key);
        },
        cluster,
      };
      return { deployment, close: () => cluster.close() };
    }
  }
}

function onOneServer(
  mode: RedisMode,
  connection: RedisConnection,
  env: Record<string, string>,
  admin: () => Promise<Redis>,
): RedisDeployment {
  const keys = async (prefix: string) => (await admin()).keys(`*${prefix}*`);
  return {
    mode,
    connection,
    env,
    keys,
    async deleteKeys(prefix) {
      const found = await keys(prefix);
      if (found.length > 0) await (await admin()).del(...found);
    },
  };
}
