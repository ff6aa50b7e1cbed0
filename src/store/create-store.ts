import type { Config } from '../config/types';
import { createMemoryStore } from './memory/memory-store';
import { createRedisStore } from './redis/redis-store';
import type { SessionStore } from './ports';

/** Redis when one is configured (shared by every replica), otherwise this process's memory. */
export function createStore(config: Config, clock: () => number): SessionStore {
  return config.redis === undefined
    ? createMemoryStore({
        clock,
        outboxMaxJobs: config.outboxMaxJobs,
        usageRetentionDays: config.budgets.usageRetentionDays,
      })
    : createRedisStore({
        connection: config.redis,
        keyPrefix: config.redisKeyPrefix,
        clock,
        outboxMaxJobs: config.outboxMaxJobs,
        usageRetentionDays: config.budgets.usageRetentionDays,
      });
}
