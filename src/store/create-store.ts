import type { Config } from '../config/types';
import { createMemoryStore } from './memory/memory-store';
import { createRedisStore } from './redis/redis-store';
import type { SessionStore } from './ports';

/** Redis when REDIS_URL is set (shared by every replica), otherwise this process's memory. */
export function createStore(config: Config, clock: () => number): SessionStore {
  return config.redisUrl === undefined
    ? createMemoryStore({
        clock,
        outboxMaxJobs: config.outboxMaxJobs,
        usageRetentionDays: config.budgets.usageRetentionDays,
      })
    : createRedisStore({
        url: config.redisUrl,
        keyPrefix: config.redisKeyPrefix,
        clock,
        outboxMaxJobs: config.outboxMaxJobs,
        usageRetentionDays: config.budgets.usageRetentionDays,
      });
}
