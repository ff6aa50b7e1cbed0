import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config/load-config';
import { startServer } from '../src/server';
import { keyTag } from '../src/store/redis/redis-keys';
import { createRedisStore } from '../src/store/redis/redis-store';
import { runChild } from './child-runtime';
import { addLiveSessions, type AddLiveSessions } from './live-sessions';

/* The broker under test (startServer from src/server.ts), alone in this process. */

export interface BrokerParams {
  env: Record<string, string>;
  /** PROFILES_FILE's content. */
  profilesJson: string;
  /** Redis instead of the in-process store, under a key prefix of its own that is deleted at the end. */
  redisUrl?: string;
}

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    let cursor = '0';
    do {
      // Every key of the store carries the prefix as its hash tag.
      const [next, keys] = await client.scan(cursor, 'MATCH', `${keyTag(prefix)}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

runChild(async ({ env, profilesJson, redisUrl }: BrokerParams) => {
  const config = loadConfig(env, { readFile: () => profilesJson });
  const keyPrefix = `avaturn-broker-bench:${randomUUID()}:`;
  const store = redisUrl === undefined ? undefined : createRedisStore({ url: redisUrl, keyPrefix });
  const running = await startServer(config, store === undefined ? {} : { store });
  const { broker } = running;
  return {
    url: running.url,
    info: { store: broker.store.kind },
    calls: {
      addLiveSessions: (options: AddLiveSessions) => addLiveSessions(broker.store, options),
      liveSessions: () => broker.store.countAll(),
      /** Waits for the pre-mint pool's background mints, then says how many are ready per profile. */
      premintReady: async () => {
        await broker.premint?.whenIdle();
        return Object.fromEntries(
          Object.keys(config.profiles).map((name) => [name, broker.premint?.ready(name) ?? 0]),
        );
      },
    },
    async stop() {
      await running.shutdown();
      if (redisUrl !== undefined) await deleteKeys(redisUrl, keyPrefix);
    },
  };
});
